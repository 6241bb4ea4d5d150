import { createHash, generateKeyPairSync } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { computeTeeBinding } from '../binding/tee-binding';
import { AttestationInputError } from '../errors';
import { createAttestationRequest } from './arcb';
import { buildSeAttestationResult, SE_ATTESTATION_PREDICATE_TYPE, validateSeAttestationResult } from './se-result';
import { createSimulatedSeGuest } from './se-simulator';
import { verifySeAttestation } from './se-verifier';

describe(buildSeAttestationResult.name, () => {
  const spki = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' });
  const workerKeySpkiSha256 = createHash('sha256').update(spki).digest('hex');
  const teeBinding = computeTeeBinding({ purpose: 'worker-key', signingKeySpkiDer: spki, nonce: Buffer.from('c') });
  const guest = createSimulatedSeGuest();
  const request = createAttestationRequest({
    hostKeys: [guest.hostPublicKey],
    flags: { imagePhkh: true, attestationPhkh: true },
  });
  const response = guest.perform(request.requestFile, teeBinding);
  const now = new Date('2025-07-01T12:00:00Z');
  const base = { workerKeySpkiSha256, teeBinding, header: guest.header, verifierId: 'https://att.example', now };

  it('names the worker key as subject and records a PASSED result', () => {
    const report = verifySeAttestation({
      response,
      secrets: request.secrets,
      header: guest.header,
      expectedUserData: teeBinding,
    });
    const statement = buildSeAttestationResult({ ...base, report, simulated: true });
    expect(statement).toMatchObject({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'worker-signing-key', digest: { sha256: workerKeySpkiSha256 } }],
      predicateType: SE_ATTESTATION_PREDICATE_TYPE,
      predicate: {
        verifier: { id: 'https://att.example' },
        timeVerified: '2025-07-01T12:00:00.000Z',
        result: 'PASSED',
        teeEvidenceType: 'ibm-se-hmac-via-verifier',
        simulated: true,
        se: {
          cuid: guest.cuid.toString('hex'),
          tags: { tag: guest.header.tag.toString('hex'), pld: guest.header.pld.toString('hex') },
          imagePhkh: guest.hostKeyHash.toString('hex'),
          attestationPhkh: guest.hostKeyHash.toString('hex'),
          userData: teeBinding.toString('hex'),
        },
        binding: { teeBinding: teeBinding.toString('hex'), userDataMatches: true },
      },
    });
    expect(SE_ATTESTATION_PREDICATE_TYPE).toBe('https://securebuild.dev/attestation/ibm-se/v1');
    // survives JSON (what the DSSE payload carries) and validates again
    expect(validateSeAttestationResult(JSON.parse(JSON.stringify(statement)))).toEqual(statement);
  });

  it('records FAILED when verification failed or the user data is not this key’s binding', () => {
    const bad = verifySeAttestation({
      response: response.subarray(0, 100),
      secrets: request.secrets,
      header: guest.header,
    });
    const failed = buildSeAttestationResult({ ...base, report: bad, simulated: false });
    expect(failed.predicate.result).toBe('FAILED');
    expect(failed.predicate.se.cuid).toBeUndefined();

    const good = verifySeAttestation({ response, secrets: request.secrets, header: guest.header });
    const otherBinding = computeTeeBinding({ purpose: 'worker-key', signingKeySpkiDer: Buffer.from('other') });
    const mismatch = buildSeAttestationResult({ ...base, teeBinding: otherBinding, report: good, simulated: false });
    expect(mismatch.predicate).toMatchObject({ result: 'FAILED', binding: { userDataMatches: false } });
  });

  it('validates its inputs and decoded statements', () => {
    const report = verifySeAttestation({ response, secrets: request.secrets, header: guest.header });
    expect(() => buildSeAttestationResult({ ...base, report, simulated: false, workerKeySpkiSha256: 'ABC' })).toThrow(
      AttestationInputError,
    );
    expect(() => buildSeAttestationResult({ ...base, report, simulated: false, teeBinding: Buffer.alloc(32) })).toThrow(
      /64-byte/,
    );
    const statement = buildSeAttestationResult({ ...base, report, simulated: false });
    expect(() => validateSeAttestationResult({ ...statement, predicateType: 'https://example.com/other' })).toThrow(
      /predicateType/,
    );
    expect(() =>
      validateSeAttestationResult({ ...statement, predicate: { ...statement.predicate, result: 'MAYBE' } }),
    ).toThrow(/predicate.result/);
  });
});
