import { generateKeyPairSync } from 'node:crypto';

import { beforeAll, describe, expect, it } from 'vitest';

import { computeTeeBinding } from '../binding/tee-binding';
import { createAttestationRequest, type SeAttestationRequest } from './arcb';
import { computePublicHostKeyHash } from './se-crypto';
import { parseSeHeader } from './se-header';
import { createSimulatedSeGuest, type SimulatedSeGuest } from './se-simulator';
import { hasSeTestdata, readSeTestdata } from './se-testdata.util';
import { verifySeAttestation, type SeVerificationReport, type VerifySeAttestationInput } from './se-verifier';

const failed = (report: SeVerificationReport): string[] =>
  report.checks
    .filter((check) => !check.ok)
    .map((check) => check.name)
    .sort();

/** Copy of `bytes` with the byte `delta` into the exchange entry whose header slot is at `entry` flipped. */
function flipInEntry(bytes: Buffer, entry: number, delta = 0): Buffer {
  const copy = Buffer.from(bytes);
  copy[copy.readUInt32BE(entry + 4) + delta] ^= 0x01;
  return copy;
}

const ENTRY = { arcb: 0x18, measurement: 0x20, additional: 0x28, user: 0x30, cuid: 0x38 } as const;

describe(verifySeAttestation.name, () => {
  const workerKey = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' });
  const binding = computeTeeBinding({ purpose: 'worker-key', signingKeySpkiDer: workerKey, nonce: Buffer.from('n') });
  let guest: SimulatedSeGuest;
  let request: SeAttestationRequest;
  let response: Buffer;
  let input: VerifySeAttestationInput;

  beforeAll(() => {
    guest = createSimulatedSeGuest();
    request = createAttestationRequest({
      hostKeys: [guest.hostPublicKey],
      flags: { imagePhkh: true, attestationPhkh: true },
    });
    response = guest.perform(request.requestFile, binding);
    input = {
      response,
      secrets: request.secrets,
      header: guest.header,
      expectedUserData: binding,
      expectedImagePhkh: guest.hostKeyHash,
      expectedAttestationPhkh: [Buffer.alloc(32), computePublicHostKeyHash(guest.hostPublicKey)],
    };
  });

  it('accepts request → simulated perform → response with the binding in user data', () => {
    const report = verifySeAttestation(input);
    expect(failed(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checks.map((check) => check.name)).toEqual([
      'se.format',
      'se.request',
      'se.measurement',
      'se.user-data',
      'se.image-phkh',
      'se.attestation-phkh',
    ]);
    expect(report.cuid).toEqual(guest.cuid);
    expect(report.userData).toEqual(binding);
    expect(report.measurement).toHaveLength(64);
    expect(report.additionalData).toEqual({ imagePhkh: guest.hostKeyHash, attestationPhkh: guest.hostKeyHash });
  });

  it('accepts a minimal request without additional data or pinned values', () => {
    const minimal = createAttestationRequest({ hostKeys: [guest.hostPublicKey] });
    const report = verifySeAttestation({
      response: guest.perform(minimal.requestFile, Buffer.alloc(0)),
      secrets: minimal.secrets,
      header: guest.header,
    });
    expect(report.ok).toBe(true);
    expect(report.userData).toEqual(Buffer.alloc(0));
    expect(report.additionalData).toEqual({});
  });

  it('rejects a wrong measurement key', () => {
    const report = verifySeAttestation({
      ...input,
      secrets: { ...request.secrets, measurementKey: Buffer.alloc(64, 0x41) },
    });
    expect(report.ok).toBe(false);
    expect(failed(report)).toEqual(['se.measurement', 'se.request']);
  });

  it.each([
    ['measurement', ENTRY.measurement, 0, ['se.measurement']],
    ['measurement (last byte)', ENTRY.measurement, 63, ['se.measurement']],
    ['user data', ENTRY.user, 5, ['se.measurement', 'se.user-data']],
    ['CUID', ENTRY.cuid, 15, ['se.measurement']],
    ['additional data (image PHKH)', ENTRY.additional, 0, ['se.image-phkh', 'se.measurement']],
  ])('rejects one flipped byte in the %s', (_name, entry, delta, checks) => {
    const report = verifySeAttestation({ ...input, response: flipInEntry(response, entry, delta) });
    expect(report.ok).toBe(false);
    expect(failed(report)).toEqual(checks);
  });

  it('rejects a flipped byte in the returned ARCB (authenticated with the ARPK)', () => {
    const report = verifySeAttestation({ ...input, response: flipInEntry(response, ENTRY.arcb, 0x130 + 3) });
    expect(failed(report)).toEqual(['se.request']);
    expect(report.ok).toBe(false);
  });

  it('rejects wrong header tags', () => {
    const tag = Buffer.from(guest.header.tag);
    tag[0] ^= 1;
    expect(failed(verifySeAttestation({ ...input, header: { ...guest.header, tag } }))).toEqual(['se.measurement']);
    if (hasSeTestdata) {
      const other = parseSeHeader(readSeTestdata('secure_guest.hdr'));
      expect(failed(verifySeAttestation({ ...input, header: other }))).toEqual(['se.measurement']);
    }
  });

  it('rejects wrong expected user data', () => {
    const otherBinding = computeTeeBinding({ purpose: 'worker-key', signingKeySpkiDer: Buffer.from('other key') });
    const report = verifySeAttestation({ ...input, expectedUserData: otherBinding });
    expect(failed(report)).toEqual(['se.user-data']);
    expect(report.ok).toBe(false);
  });

  it('rejects a response to another verifier’s request (secrets mismatch)', () => {
    const foreign = createAttestationRequest({
      hostKeys: [guest.hostPublicKey],
      flags: { imagePhkh: true, attestationPhkh: true },
    });
    const report = verifySeAttestation({ ...input, response: guest.perform(foreign.requestFile, binding) });
    expect(failed(report)).toEqual(['se.measurement', 'se.request']);
    expect(report.checks.find((c) => c.name === 'se.request')?.detail).toMatch(/wrong ARPK|not created with these/);
  });

  it('rejects a response from another simulated machine when the PHKHs are pinned', () => {
    const otherGuest = createSimulatedSeGuest();
    const other = createAttestationRequest({
      hostKeys: [otherGuest.hostPublicKey],
      flags: { imagePhkh: true, attestationPhkh: true },
    });
    const report = verifySeAttestation({
      ...input,
      response: otherGuest.perform(other.requestFile, binding),
      secrets: other.secrets,
    });
    expect(failed(report)).toEqual(['se.attestation-phkh', 'se.image-phkh']);
  });

  it('fails a pinned PHKH that the request did not ask for', () => {
    const minimal = createAttestationRequest({ hostKeys: [guest.hostPublicKey] });
    const report = verifySeAttestation({
      ...input,
      response: guest.perform(minimal.requestFile, binding),
      secrets: minimal.secrets,
    });
    expect(failed(report)).toEqual(['se.attestation-phkh', 'se.image-phkh']);
    expect(report.checks.find((c) => c.name === 'se.image-phkh')?.detail).toMatch(/not requested/);
  });

  it('fails se.format (and marks the rest not evaluated) for a request read as a response', () => {
    const report = verifySeAttestation({ ...input, response: request.requestFile });
    expect(report.ok).toBe(false);
    expect(report.checks[0]).toMatchObject({ name: 'se.format', ok: false });
    expect(report.checks[0].detail).toMatch(/measurement at offset 32.*not a response/);
    expect(report.checks.slice(1).every((c) => !c.ok && /not evaluated/.test(c.detail ?? ''))).toBe(true);
    expect(report.cuid).toBeUndefined();
  });

  it.each([
    ['truncated', () => response.subarray(0, response.length - 10), /truncated/],
    ['header only', () => response.subarray(0, 40), /truncated/],
    ['bad magic', () => Buffer.concat([Buffer.from('PVATTEST'), response.subarray(8)]), /magic/],
    [
      'unknown version',
      () => {
        const copy = Buffer.from(response);
        copy.writeUInt32BE(0x0200, 8);
        return copy;
      },
      /version/,
    ],
    ['empty', () => Buffer.alloc(0), /truncated/],
  ])('fails se.format for a %s file without throwing', (_name, make, reason) => {
    const report = verifySeAttestation({ ...input, response: make() });
    expect(report.ok).toBe(false);
    expect(report.checks[0]).toMatchObject({ name: 'se.format', ok: false });
    expect(report.checks[0].detail).toMatch(reason);
  });

  it('fails se.format when additional data does not match the request flags', () => {
    const copy = Buffer.from(response);
    copy.writeUInt32BE(32, ENTRY.additional); // claim only one PHKH; the second becomes a gap
    const report = verifySeAttestation({ ...input, response: copy });
    expect(report.checks[0]).toMatchObject({ name: 'se.format', ok: false });
    expect(report.checks[0].detail).toMatch(/attestationPhkh/);
  });
});
