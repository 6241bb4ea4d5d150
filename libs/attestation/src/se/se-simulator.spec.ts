import { describe, expect, it } from 'vitest';

import { AttestationInputError } from '../errors';
import { createAttestationRequest } from './arcb';
import {
  parseAttestationResponse,
  parseExchange,
  serializeAttestationRequest,
  serializeExchange,
} from './exchange-format';
import { SeUltravisorError } from './se-errors';
import { createSimulatedSeGuest, SIMULATED_SE_HEADER } from './se-simulator';
import { verifySeAttestation } from './se-verifier';

function uvRc(fn: () => unknown): number {
  try {
    fn();
  } catch (error) {
    if (error instanceof SeUltravisorError) return error.rc;
    throw error;
  }
  throw new Error('expected an SeUltravisorError');
}

/** Request file whose ARCB byte at `offset` is replaced (the ARCB starts at 0x40). */
function withArcbByte(requestFile: Buffer, offset: number, value: number): Buffer {
  const copy = Buffer.from(requestFile);
  copy[0x40 + offset] = value;
  return copy;
}

describe(createSimulatedSeGuest.name, () => {
  const guest = createSimulatedSeGuest();

  it('has a P-521 TEST host key, the fixed fake header and a 16-byte CUID', () => {
    expect(guest.hostPublicKey.asymmetricKeyDetails?.namedCurve).toBe('secp521r1');
    expect(guest.header).toBe(SIMULATED_SE_HEADER);
    expect(guest.cuid).toHaveLength(16);
    expect(createSimulatedSeGuest().cuid.equals(guest.cuid)).toBe(false);
  });

  it('writes a pvattest response with ARCB, measurement, additional data, user data and CUID', () => {
    const request = createAttestationRequest({
      hostKeys: [guest.hostPublicKey],
      flags: { imagePhkh: true, attestationPhkh: true, secretStoreHash: true, firmwareState: true },
    });
    const response = guest.perform(request.requestFile, Buffer.alloc(64, 7));
    const file = parseAttestationResponse(response);
    expect(file.arcb).toEqual(request.arcb);
    expect(file.measurement).toHaveLength(64);
    expect(file.additionalData).toHaveLength(32 + 32 + 64 + 320);
    expect(file.userData).toEqual(Buffer.alloc(64, 7));
    expect(file.configUid).toEqual(guest.cuid);
    expect(verifySeAttestation({ response, secrets: request.secrets, header: guest.header }).ok).toBe(true);
  });

  it('uses the given header tags', () => {
    const header = {
      pld: Buffer.alloc(64, 1),
      ald: Buffer.alloc(64, 2),
      tld: Buffer.alloc(64, 3),
      tag: Buffer.alloc(16, 4),
    };
    const custom = createSimulatedSeGuest({ header });
    const request = createAttestationRequest({ hostKeys: [custom.hostPublicKey] });
    const response = custom.perform(request.requestFile, Buffer.alloc(0));
    expect(verifySeAttestation({ response, secrets: request.secrets, header }).ok).toBe(true);
    expect(verifySeAttestation({ response, secrets: request.secrets, header: SIMULATED_SE_HEADER }).ok).toBe(false);
    expect(() => createSimulatedSeGuest({ header: { ...header, tag: Buffer.alloc(8) } })).toThrow(
      AttestationInputError,
    );
  });

  it('answers with the architected UV return codes', () => {
    const request = createAttestationRequest({ hostKeys: [guest.hostPublicKey], flags: { imagePhkh: true } });
    const file = request.requestFile;
    expect(uvRc(() => guest.perform(file, Buffer.alloc(257)))).toBe(0x0102);
    expect(uvRc(() => guest.perform(withArcbByte(file, 0x0a, 2), Buffer.alloc(0)))).toBe(0x0106);
    expect(uvRc(() => guest.perform(withArcbByte(file, 0x0f, 0x91), Buffer.alloc(0)))).toBe(0x0107);
    expect(uvRc(() => guest.perform(withArcbByte(file, 0x27, 0), Buffer.alloc(0)))).toBe(0x0108);
    expect(uvRc(() => guest.perform(withArcbByte(file, 0x2f, 0x40), Buffer.alloc(0)))).toBe(0x0109);
    expect(uvRc(() => guest.perform(withArcbByte(file, 0x37, 1), Buffer.alloc(0)))).toBe(0x010a);
    expect(uvRc(() => guest.perform(withArcbByte(file, 0x3b, 2), Buffer.alloc(0)))).toBe(0x010b);
    const foreign = createAttestationRequest({ hostKeys: [createSimulatedSeGuest().hostPublicKey] });
    expect(uvRc(() => guest.perform(foreign.requestFile, Buffer.alloc(0)))).toBe(0x010c);
    const smallMeasurement = serializeAttestationRequest({
      arcb: request.arcb,
      measurementSize: 32,
      additionalDataSize: 32,
    });
    expect(uvRc(() => guest.perform(smallMeasurement, Buffer.alloc(0)))).toBe(0x010d);
    const noAdditional = serializeAttestationRequest({
      arcb: request.arcb,
      measurementSize: 64,
      additionalDataSize: 0,
    });
    expect(uvRc(() => guest.perform(noAdditional, Buffer.alloc(0)))).toBe(0x010e);
  });

  it('refuses a request file without an ARCB', () => {
    const exchange = parseExchange(createAttestationRequest({ hostKeys: [guest.hostPublicKey] }).requestFile);
    expect(() => guest.perform(serializeExchange({ ...exchange, arcb: undefined }), Buffer.alloc(0))).toThrow(
      /arcb at offset 24/,
    );
  });
});
