import type { Descriptor, ImageIndex } from '@secure-build/oci';

import { RegistryError, type RegistryErrorCode } from './registry-error';

/** An OCI manifest as artifacts use it: image fields plus `artifactType` and `subject`. */
export interface ArtifactManifest {
  schemaVersion: 2;
  mediaType: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Parses JSON bytes into an object, or throws `code` naming `what`. */
export function parseJsonObject(bytes: Buffer, what: string, code: RegistryErrorCode): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new RegistryError(code, `${what} is not valid JSON`);
  }
  if (!isObject(value)) throw new RegistryError(code, `${what} is not a JSON object`);
  return value;
}

/**
 * Validates a descriptor: string mediaType, sha256 digest, non-negative safe-integer size, and the
 * optional string fields; throws `code` naming `where`.
 */
export function parseDescriptor(value: unknown, where: string, code: RegistryErrorCode): Descriptor {
  const bad = (problem: string): RegistryError => new RegistryError(code, `${where}: ${problem}`);
  if (!isObject(value)) throw bad('descriptor is not an object');
  if (typeof value.mediaType !== 'string' || value.mediaType === '') throw bad('descriptor has no mediaType');
  if (typeof value.digest !== 'string' || !DIGEST.test(value.digest)) {
    throw bad('descriptor digest is not sha256:<64 lowercase hex>');
  }
  if (typeof value.size !== 'number' || !Number.isSafeInteger(value.size) || value.size < 0) {
    throw bad('descriptor size is not a non-negative integer');
  }
  if (value.artifactType !== undefined && typeof value.artifactType !== 'string') {
    throw bad('descriptor artifactType is not a string');
  }
  if (value.annotations !== undefined && !isStringRecord(value.annotations)) {
    throw bad('descriptor annotations are not a string map');
  }
  if (value.urls !== undefined) throw bad('descriptor has urls (foreign content is not supported)');
  return value as unknown as Descriptor;
}

/** Parses an image index (OCI index or Docker manifest list). */
export function parseIndex(bytes: Buffer, what: string, code: RegistryErrorCode): ImageIndex {
  const value = parseJsonObject(bytes, what, code);
  if (value.schemaVersion !== 2) throw new RegistryError(code, `${what} does not have schemaVersion 2`);
  if (!Array.isArray(value.manifests)) throw new RegistryError(code, `${what} has no manifests array`);
  value.manifests.forEach((entry, i) => parseDescriptor(entry, `${what} manifests[${i}]`, code));
  return value as unknown as ImageIndex;
}

/** Parses an image or artifact manifest with schemaVersion 2, a config and a layers array. */
export function parseManifest(bytes: Buffer, what: string, code: RegistryErrorCode): ArtifactManifest {
  const value = parseJsonObject(bytes, what, code);
  if (value.schemaVersion === 1) throw new RegistryError(code, `${what} is a Docker schema 1 manifest (unsupported)`);
  if (value.schemaVersion !== 2) throw new RegistryError(code, `${what} does not have schemaVersion 2`);
  parseDescriptor(value.config, `${what} config`, code);
  if (!Array.isArray(value.layers)) throw new RegistryError(code, `${what} has no layers array`);
  value.layers.forEach((entry, i) => parseDescriptor(entry, `${what} layers[${i}]`, code));
  if (value.subject !== undefined) parseDescriptor(value.subject, `${what} subject`, code);
  if (value.artifactType !== undefined && typeof value.artifactType !== 'string') {
    throw new RegistryError(code, `${what} artifactType is not a string`);
  }
  if (value.annotations !== undefined && !isStringRecord(value.annotations)) {
    throw new RegistryError(code, `${what} annotations are not a string map`);
  }
  return value as unknown as ArtifactManifest;
}

/** The `mediaType` member of a JSON document, if it is a string. */
export function embeddedMediaType(bytes: Buffer): string | undefined {
  try {
    const value = JSON.parse(bytes.toString('utf8')) as unknown;
    return isObject(value) && typeof value.mediaType === 'string' ? value.mediaType : undefined;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return isObject(value) && Object.values(value).every((v) => typeof v === 'string');
}
