import { describe, expect, it } from 'vitest';

import { isDomainError } from '@secure-build/common';

import { computeTeeBinding, TEE_BINDING_DOMAIN } from './tee-binding';

// Fixed vectors computed independently (Python hashlib/json with sorted keys, compact separators).
const SPKI = Buffer.from(Array.from({ length: 91 }, (_, i) => i));

describe(computeTeeBinding.name, () => {
  it('uses the documented domain separator', () => {
    expect(TEE_BINDING_DOMAIN).toBe('securebuild.dev/tee-binding/v1\u0000');
  });

  it('matches the worker-key vector with nonce and workerRef', () => {
    const binding = computeTeeBinding({
      purpose: 'worker-key',
      signingKeySpkiDer: SPKI,
      nonce: Buffer.alloc(16, 0xaa),
      workerRef: `sha256:${'ab'.repeat(32)}`,
    });
    expect(binding).toHaveLength(64);
    expect(binding.toString('hex')).toBe(
      '5ab53ba99371b86ed7b043b69e8725bd3d2f9dac0e8bdb4b8727ded8dcc8c4f35353f38047f3c15b9c1f560ca78bce3e8805aea6258546867ace8d570b61dd8e',
    );
  });

  it('matches the provenance vector', () => {
    const binding = computeTeeBinding({
      purpose: 'provenance',
      signingKeySpkiDer: SPKI,
      provenanceDigest: `sha256:${'01'.repeat(32)}`,
    });
    expect(binding.toString('hex')).toBe(
      '7ff70a1856aeba7e018b157f329a4b343ba85d56863b7337cb457d1eadfa1f3c646b32d31e91229e38e9c3035279e169e6e7356b40c4b198df712165e1455ba8',
    );
  });

  it('omits absent optional fields from the JSON', () => {
    const binding = computeTeeBinding({ purpose: 'worker-key', signingKeySpkiDer: SPKI });
    expect(binding.toString('hex')).toBe(
      '7b0d871b2628e6a904c173c2c71fa9e3edbc16e9a3f76ef2f214bc16114a5d0645e3c05db77630ee24a8fbd2bc00f2c000ea0f5e98dc0706bc6d0f6df32e1186',
    );
  });

  it('changes when any input changes', () => {
    const base = computeTeeBinding({ purpose: 'worker-key', signingKeySpkiDer: SPKI, nonce: Buffer.from([1]) });
    const otherNonce = computeTeeBinding({ purpose: 'worker-key', signingKeySpkiDer: SPKI, nonce: Buffer.from([2]) });
    const otherKey = computeTeeBinding({
      purpose: 'worker-key',
      signingKeySpkiDer: Buffer.concat([SPKI, Buffer.from([0])]),
      nonce: Buffer.from([1]),
    });
    expect(otherNonce.equals(base)).toBe(false);
    expect(otherKey.equals(base)).toBe(false);
  });

  it.each([
    ['provenance without digest', { purpose: 'provenance' as const, signingKeySpkiDer: SPKI }],
    [
      'worker-key with digest',
      { purpose: 'worker-key' as const, signingKeySpkiDer: SPKI, provenanceDigest: `sha256:${'01'.repeat(32)}` },
    ],
    [
      'malformed digest',
      { purpose: 'provenance' as const, signingKeySpkiDer: SPKI, provenanceDigest: `sha256:${'0G'.repeat(32)}` },
    ],
    ['empty key', { purpose: 'worker-key' as const, signingKeySpkiDer: Buffer.alloc(0) }],
    ['empty nonce', { purpose: 'worker-key' as const, signingKeySpkiDer: SPKI, nonce: Buffer.alloc(0) }],
    ['empty workerRef', { purpose: 'worker-key' as const, signingKeySpkiDer: SPKI, workerRef: '' }],
  ])('rejects %s with ATTESTATION_INPUT', (_name, input) => {
    let caught: unknown;
    try {
      computeTeeBinding(input);
    } catch (error) {
      caught = error;
    }
    expect(isDomainError(caught, 'ATTESTATION_INPUT')).toBe(true);
  });
});
