import { createHash, createPublicKey, KeyObject } from 'node:crypto';

import { Bundle, bundleFromJSON } from '@sigstore/bundle';

import { computeTeeBinding, validateSeAttestationResult } from '@secure-build/attestation';

import { verifyDsseWithKey } from './dsse-verify';
import type { TeePolicy } from './tee-policy';
import type { CheckList } from './verification-report';

/** Outcome of checking IBM SE evidence: which TEE it attests, when every check passed. */
export interface SeEvidenceVerdict {
  ok: boolean;
  tee?: 'ibm-se' | 'ibm-se-sim';
}

/**
 * Checks the attestation service's signed SE result a bundle carries in place of a quote: the
 * result is signed by a verifier key the policy pins (`se.verifierKeys`), names this bundle's signing
 * key as subject, PASSED, and its TEE binding is the one derived from that key. SE evidence can only
 * be checked by the service that created the request, so trust in it is trust in that service's key.
 */
export function verifySeEvidence(
  checks: CheckList,
  resultJson: unknown,
  input: { signingKeySpkiDer: Buffer; workerRef?: string; policy: TeePolicy & { se?: { verifierKeys?: string[] } } },
): SeEvidenceVerdict {
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(resultJson);
    if (bundle.content.$case !== 'dsseEnvelope' || bundle.verificationMaterial.content.$case !== 'publicKey')
      throw new Error('expected a DSSE envelope with a public key hint');
  } catch (error) {
    checks.fail('evidence.se.bundle', `the SE result is not a public-key Sigstore bundle: ${(error as Error).message}`);
    return { ok: false };
  }
  const hint = bundle.verificationMaterial.content.publicKey.hint;
  const verifierKey = (input.policy.se?.verifierKeys ?? []).map(keyOf).find((k) => k?.sha256 === hint);
  if (!verifierKey) {
    checks.fail(
      'evidence.se.verifier-key',
      `the SE result is signed by verifier key ${hint}, which the policy does not list in se.verifierKeys`,
    );
    return { ok: false };
  }
  try {
    verifyDsseWithKey(bundle, hint, verifierKey.key);
    checks.pass('evidence.se.signature', `signed by the attestation service key ${hint.slice(0, 16)}…`);
  } catch (error) {
    checks.fail('evidence.se.signature', `the SE result signature does not verify: ${(error as Error).message}`);
    return { ok: false };
  }
  let statement;
  try {
    statement = validateSeAttestationResult(JSON.parse(bundle.content.dsseEnvelope.payload.toString('utf8')));
    checks.pass('evidence.se.statement');
  } catch (error) {
    checks.fail('evidence.se.statement', (error as Error).message);
    return { ok: false };
  }
  const keySha256 = createHash('sha256').update(input.signingKeySpkiDer).digest('hex');
  const predicate = statement.predicate;
  const binding = computeTeeBinding({
    purpose: 'worker-key',
    signingKeySpkiDer: input.signingKeySpkiDer,
    ...(input.workerRef ? { workerRef: input.workerRef } : {}),
  });
  const results = [
    checks.check(
      'evidence.se.subject',
      statement.subject[0].digest.sha256 === keySha256,
      'the SE result attests another signing key',
    ),
    checks.check(
      'evidence.se.result',
      predicate.result === 'PASSED',
      `the attestation service's verdict is ${predicate.result}`,
      'PASSED',
    ),
    checks.check(
      'evidence.se.binding',
      predicate.binding.userDataMatches && predicate.binding.teeBinding === binding.toString('hex'),
      "the SE user data does not carry the binding of this bundle's signing key",
    ),
  ];
  const se = input.policy.se;
  if (se?.imageTags) {
    results.push(
      checks.check(
        'policy.se.image-tag',
        se.imageTags.map((t) => t.toLowerCase()).includes(predicate.se.tags.tag),
        `SE image tag ${predicate.se.tags.tag} is not among the policy's imageTags`,
        predicate.se.tags.tag,
      ),
    );
  }
  if (se?.hostKeyHashes) {
    const phkhs = [predicate.se.imagePhkh, predicate.se.attestationPhkh].filter((p): p is string => !!p);
    const allowed = se.hostKeyHashes.map((h) => h.toLowerCase());
    results.push(
      checks.check(
        'policy.se.host-key',
        phkhs.length > 0 && phkhs.every((p) => allowed.includes(p)),
        `host key hash(es) ${phkhs.join(', ') || '(none reported)'} not allowed by the policy`,
        phkhs.join(', '),
      ),
    );
  }
  return { ok: results.every(Boolean), tee: predicate.simulated ? 'ibm-se-sim' : 'ibm-se' };
}

function keyOf(pem: string): { key: KeyObject; sha256: string } | undefined {
  try {
    const key = createPublicKey(pem);
    return {
      key,
      sha256: createHash('sha256')
        .update(key.export({ type: 'spki', format: 'der' }))
        .digest('hex'),
    };
  } catch {
    return undefined;
  }
}
