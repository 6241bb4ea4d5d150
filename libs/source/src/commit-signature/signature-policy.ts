import { hasControlCharacter } from '@secure-build/common';

import { SourceError } from '../source.error';
import { formatAllowedSigners, parseAllowedSigners } from './allowed-signers';

/**
 * Which commit signatures a repository accepts. `none` skips verification; `ssh` trusts the keys
 * of an OpenSSH allowed_signers file; `openpgp` trusts signatures whose signing-key or primary-key
 * fingerprint is listed, checked against a keyring holding only `publicKeys`.
 */
export type SignaturePolicy =
  | { mode: 'none' }
  | {
      mode: 'ssh';
      /** Content of an allowed_signers file (ssh-keygen(1), "ALLOWED SIGNERS"). */
      allowedSigners: string;
    }
  | {
      mode: 'openpgp';
      /** Allowed primary or signing (sub)key fingerprints, 40 hex digits each. */
      fingerprints: string[];
      /** ASCII-armored public keys ("PGP PUBLIC KEY BLOCK") to verify with. */
      publicKeys: string;
    };

/** Outcome of a successful verification; every refusal is a SourceError instead. */
export type CommitSignatureResult =
  | { method: 'none' }
  | {
      method: 'ssh' | 'openpgp';
      /** ssh: the matched allowed_signers principal; openpgp: the key's primary user id as gpg reports it. */
      signer: string;
      /** ssh: `SHA256:<base64>` of the signing key; openpgp: 40 upper-case hex of the signing (sub)key. */
      keyFingerprint: string;
      verified: true;
    };

/** A policy after validation, in the form the verifier uses. */
export type NormalizedSignaturePolicy =
  | { mode: 'none' }
  | { mode: 'ssh'; allowedSigners: string }
  | { mode: 'openpgp'; fingerprints: ReadonlySet<string>; publicKeys: string };

const MAX_FINGERPRINTS = 1000;
const MAX_PUBLIC_KEYS_LENGTH = 4 * 1024 * 1024;
const FINGERPRINT = /^[0-9A-F]{40}$/;
const ARMOR_HEADER = /^-----BEGIN PGP ([A-Z ,/0-9]+)-----\s*$/;

/**
 * Validates a policy (which may come from untrusted JSON) and normalizes it: allowed_signers is
 * re-serialized from its validated entries, fingerprints are upper-cased. Malformed policies fail
 * with SIGNATURE_POLICY_INVALID before any file is written or program run.
 */
export function parseSignaturePolicy(input: unknown): NormalizedSignaturePolicy {
  if (typeof input !== 'object' || input === null) throw invalid('signature policy must be an object');
  const policy = input as Record<string, unknown>;
  switch (policy.mode) {
    case 'none':
      return { mode: 'none' };
    case 'ssh':
      if (typeof policy.allowedSigners !== 'string') throw invalid('ssh policy needs allowedSigners (file content)');
      return { mode: 'ssh', allowedSigners: formatAllowedSigners(parseAllowedSigners(policy.allowedSigners)) };
    case 'openpgp':
      return {
        mode: 'openpgp',
        fingerprints: parseFingerprints(policy.fingerprints),
        publicKeys: parsePublicKeys(policy.publicKeys),
      };
    default:
      throw invalid('signature policy mode must be "none", "ssh" or "openpgp"');
  }
}

function parseFingerprints(input: unknown): ReadonlySet<string> {
  if (!Array.isArray(input) || input.length === 0) {
    throw invalid('openpgp policy needs a non-empty fingerprints list');
  }
  if (input.length > MAX_FINGERPRINTS) throw invalid(`openpgp policy has more than ${MAX_FINGERPRINTS} fingerprints`);
  const result = new Set<string>();
  input.forEach((value, index) => {
    const upper = typeof value === 'string' ? value.toUpperCase() : '';
    if (!FINGERPRINT.test(upper)) {
      throw invalid(`fingerprints[${index}] must be a full OpenPGP fingerprint of 40 hex digits without spaces`);
    }
    result.add(upper);
  });
  return result;
}

function parsePublicKeys(input: unknown): string {
  if (typeof input !== 'string' || input.trim() === '') {
    throw invalid('openpgp policy needs publicKeys (ASCII-armored public key blocks)');
  }
  if (input.length > MAX_PUBLIC_KEYS_LENGTH) {
    throw invalid(`publicKeys is longer than ${MAX_PUBLIC_KEYS_LENGTH} characters`);
  }
  if (hasControlCharacter(input.replace(/[\r\n\t]/g, ''))) throw invalid('publicKeys contains control characters');
  let blocks = 0;
  for (const line of input.split(/\r?\n/)) {
    const header = ARMOR_HEADER.exec(line);
    if (header === null) continue;
    if (header[1] !== 'PUBLIC KEY BLOCK') {
      throw invalid(`publicKeys may only hold PGP PUBLIC KEY BLOCKs, found a ${header[1]}`);
    }
    blocks += 1;
  }
  if (blocks === 0) throw invalid('publicKeys holds no "-----BEGIN PGP PUBLIC KEY BLOCK-----"');
  return input;
}

function invalid(message: string): SourceError {
  return new SourceError('SIGNATURE_POLICY_INVALID', message);
}
