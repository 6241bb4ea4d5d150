import { sha256Digest } from '@secure-build/common';
import { VerificationPolicy, VerificationReport, verifyProvenanceBundle } from '@secure-build/provenance';
import {
  findArtifacts,
  formatImageReference,
  ImageReference,
  MEDIA_TYPE_SIGSTORE_BUNDLE,
  parseImageReference,
  RegistryClient,
} from '@secure-build/registry';

import { DeployError } from '../deploy.error';

/** Where the provenance of an image is looked up. */
export type ProvenanceSource =
  | { kind: 'registry'; client: RegistryClient }
  /** Bundles the caller fetched elsewhere (a Secure Build server), labelled for the report. */
  | { kind: 'bundles'; origin: string; bundles: { id: string; bytes: Buffer }[] };

/** One attached bundle and what verifying it found. */
export interface ImageAttestationResult {
  /** Artifact manifest digest (registry) or the server's build id. */
  id: string;
  /** `sha256:` of the exact bundle bytes that were verified. */
  bundleDigest: string;
  report: VerificationReport;
}

/** Outcome of {@link verifyImage}: verified when at least one bundle passes every check. */
export interface ImageVerification {
  reference: string;
  digest: string;
  verified: boolean;
  /** The bundle that verified (first in registry order), when any. */
  accepted?: ImageAttestationResult;
  attestations: ImageAttestationResult[];
  /** Referrers that were not considered (wrong subject or type, unreadable), with the reason. */
  skipped: { id: string; reason: string }[];
}

/**
 * The deployer gate: finds the provenance attached to `image@sha256:…` and verifies each bundle fully
 * (signature, TEE evidence, binding, policy) with the subject required to be exactly this digest.
 */
export async function verifyImage(input: {
  image: string;
  policy: VerificationPolicy;
  source: ProvenanceSource;
  asOf?: Date;
}): Promise<ImageVerification> {
  const ref = parsePinnedImage(input.image);
  const digest = ref.digest as string;
  const skipped: { id: string; reason: string }[] = [];
  const candidates: { id: string; bytes: Buffer }[] = [];
  if (input.source.kind === 'registry') {
    const found = await findArtifacts(input.source.client, ref.repository, digest, MEDIA_TYPE_SIGSTORE_BUNDLE, {
      onSkip: (descriptor, reason) => skipped.push({ id: descriptor.digest, reason }),
    });
    for (const artifact of found) candidates.push({ id: artifact.descriptor.digest, bytes: artifact.blob });
  } else {
    candidates.push(...input.source.bundles);
  }
  const attestations: ImageAttestationResult[] = [];
  for (const candidate of candidates) {
    let json: unknown;
    try {
      json = JSON.parse(candidate.bytes.toString('utf8'));
    } catch (error) {
      skipped.push({ id: candidate.id, reason: `bundle is not JSON: ${(error as Error).message}` });
      continue;
    }
    attestations.push({
      id: candidate.id,
      bundleDigest: sha256Digest(candidate.bytes),
      report: verifyProvenanceBundle(json, { policy: input.policy, imageDigest: digest, asOf: input.asOf }),
    });
  }
  const accepted = attestations.find((a) => a.report.verified);
  return {
    reference: formatImageReference(ref),
    digest,
    verified: accepted !== undefined,
    ...(accepted ? { accepted } : {}),
    attestations,
    skipped,
  };
}

/** Parses `registry/repo@sha256:<hex>`; a tag alone is refused (it can move after verification). */
export function parsePinnedImage(image: string): ImageReference {
  try {
    return parseImageReference(image, { requireDigest: true });
  } catch (error) {
    throw new DeployError('IMAGE_REFERENCE_INVALID', `image '${image}': ${(error as Error).message}`, {
      cause: error,
    });
  }
}
