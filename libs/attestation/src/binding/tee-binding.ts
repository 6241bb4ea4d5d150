import { createHash } from 'node:crypto';

import { canonicalJson, isSha256Digest } from '@secure-build/common';

import { AttestationInputError } from '../errors';

/**
 * Domain separator of the 64-byte TEE binding (REPORTDATA / SE user data). Persistent identifier:
 * do not change without a migration, every stored quote is bound through it.
 */
export const TEE_BINDING_DOMAIN = 'securebuild.dev/tee-binding/v1\0';

/** Why the evidence was requested: attesting the worker's signing key, or one provenance payload. */
export type TeeBindingPurpose = 'worker-key' | 'provenance';

/** Inputs of the binding; `provenanceDigest` is required for, and only allowed with, `provenance`. */
export interface TeeBindingInput {
  readonly purpose: TeeBindingPurpose;
  /** SPKI DER of the signing key generated inside the TEE. */
  readonly signingKeySpkiDer: Buffer;
  /** Verifier challenge (freshness). */
  readonly nonce?: Buffer;
  /** `sha256:<hex>` of the DSSE PAE of the provenance statement. */
  readonly provenanceDigest?: string;
  /** Image id or reference-value set id of the worker. */
  readonly workerRef?: string;
}

/** Computes SHA-512(domain ‖ canonical JSON of the binding claims): the 64 bytes put into REPORTDATA. */
export function computeTeeBinding(input: TeeBindingInput): Buffer {
  if (input.purpose !== 'worker-key' && input.purpose !== 'provenance') {
    throw new AttestationInputError(`tee binding: unknown purpose ${String(input.purpose)}`);
  }
  if (!Buffer.isBuffer(input.signingKeySpkiDer) || input.signingKeySpkiDer.length === 0) {
    throw new AttestationInputError('tee binding: signingKeySpkiDer must be a non-empty Buffer');
  }
  if (input.nonce !== undefined && (!Buffer.isBuffer(input.nonce) || input.nonce.length === 0)) {
    throw new AttestationInputError('tee binding: nonce must be a non-empty Buffer when given');
  }
  if (input.purpose === 'provenance' && input.provenanceDigest === undefined) {
    throw new AttestationInputError('tee binding: purpose "provenance" requires provenanceDigest');
  }
  if (input.purpose === 'worker-key' && input.provenanceDigest !== undefined) {
    throw new AttestationInputError('tee binding: provenanceDigest is only allowed with purpose "provenance"');
  }
  if (input.provenanceDigest !== undefined && !isSha256Digest(input.provenanceDigest)) {
    throw new AttestationInputError('tee binding: provenanceDigest must be sha256:<64 lower-case hex>');
  }
  if (input.workerRef !== undefined && (typeof input.workerRef !== 'string' || input.workerRef.length === 0)) {
    throw new AttestationInputError('tee binding: workerRef must be a non-empty string when given');
  }
  const key = [
    input.purpose,
    input.signingKeySpkiDer.toString('base64'),
    input.nonce?.toString('base64') ?? '',
    input.provenanceDigest ?? '',
    input.workerRef ?? '',
  ].join('\u0000');
  let binding = recentBindings.get(key);
  if (binding === undefined) {
    binding = hashBinding(input);
    recentBindings.set(key, binding);
    if (recentBindings.size > 256) recentBindings.delete(recentBindings.keys().next().value as string);
  }
  return Buffer.from(binding); // a copy: callers may keep or change theirs
}

// Verifiers recompute the same few workers' bindings for every bundle: a pure function of its inputs.
const recentBindings = new Map<string, Buffer>();

function hashBinding(input: TeeBindingInput): Buffer {
  const claims = canonicalJson({
    purpose: input.purpose,
    signingKey: createHash('sha256').update(input.signingKeySpkiDer).digest('base64url'),
    nonce: input.nonce?.toString('base64url'),
    provenanceDigest: input.provenanceDigest,
    workerRef: input.workerRef,
  });
  return createHash('sha512').update(TEE_BINDING_DOMAIN, 'utf8').update(claims, 'utf8').digest();
}
