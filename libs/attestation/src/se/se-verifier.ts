import { timingSafeEqual } from 'node:crypto';

import { CheckRecorder, type VerificationCheck } from '../verify/check-recorder';
import {
  decryptArcb,
  parseArcb,
  SE_ADDITIONAL_DATA_SIZES,
  type SeAttestationFlags,
  type SeRequestSecrets,
} from './arcb';
import { parseAttestationResponse, type SeAttestationResponseFile } from './exchange-format';
import { computeSeMeasurement, SE_MEASUREMENT_BYTES } from './measurement';
import type { BootHdrTags } from './se-header';

/** Inputs of `verifySeAttestation`: the guest's response and what only the request creator knows. */
export interface VerifySeAttestationInput {
  /** The pvattest exchange file returned by `pvattest perform`. */
  readonly response: Buffer;
  /** Secrets kept when the request was created. */
  readonly secrets: SeRequestSecrets;
  /** Tags of the SE image the guest is expected to run. */
  readonly header: BootHdrTags;
  /** When given, the user data must equal it (the 64-byte TEE binding, attestation.md §8). */
  readonly expectedUserData?: Buffer;
  /** When given, the image PHKH must be requested and equal it (or one of them). */
  readonly expectedImagePhkh?: Buffer | readonly Buffer[];
  /** When given, the attestation PHKH must be requested and equal it (or one of them). */
  readonly expectedAttestationPhkh?: Buffer | readonly Buffer[];
}

/** Additional data returned by the Ultravisor, split according to the request's flags. */
export interface SeAdditionalData {
  readonly imagePhkh?: Buffer;
  readonly attestationPhkh?: Buffer;
  readonly secretStoreHash?: Buffer;
  readonly firmwareState?: Buffer;
}

/**
 * Result of verification: `ok` only when every check passed. The decoded values come from the response
 * file and are authenticated only when `ok` is true.
 */
export interface SeVerificationReport {
  readonly ok: boolean;
  readonly checks: VerificationCheck[];
  readonly cuid?: Buffer;
  readonly userData?: Buffer;
  readonly measurement?: Buffer;
  readonly flags?: SeAttestationFlags;
  readonly additionalData?: SeAdditionalData;
}

/** Checks that must all be present (and pass) for `ok`. */
export const REQUIRED_SE_CHECKS = ['se.format', 'se.request', 'se.measurement'] as const;

interface DecodedResponse {
  readonly file: SeAttestationResponseFile;
  readonly flags: SeAttestationFlags;
  readonly additional: SeAdditionalData;
}

/**
 * Verifies an IBM SE attestation response as its request's creator (what `pvattest verify` + `check` do):
 * the response's ARCB must be the request these secrets belong to, the measurement is recomputed with
 * §5.2 over the expected image tags and compared in constant time, then user data and PHKHs are pinned.
 * Never throws on bad evidence: every failure is a failing named check.
 */
export function verifySeAttestation(input: VerifySeAttestationInput): SeVerificationReport {
  const rec = new CheckRecorder();
  const decoded = rec.run('se.format', [input.response], decodeResponse, (d) => describeFormat(d));
  rec.run('se.request', [decoded, input.secrets], (d, secrets) => checkRequest(d.file.arcb, secrets));
  rec.run('se.measurement', [decoded, input.secrets, input.header], (d, secrets, header) => {
    const expected = computeSeMeasurement(secrets.measurementKey, {
      ...header,
      cuid: d.file.configUid,
      userData: d.file.userData,
      nonce: d.flags.nonce ? secrets.nonce : undefined,
      additionalData: d.file.additionalData,
    });
    if (!timingSafeEqual(expected, d.file.measurement)) {
      throw new Error('measurement does not match: wrong measurement key, image tags, or altered response data');
    }
  });
  if (input.expectedUserData !== undefined) {
    rec.run('se.user-data', [decoded, input.expectedUserData], (d, expected) => {
      const actual = d.file.userData ?? Buffer.alloc(0);
      if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
        throw new Error(
          `user data (${actual.length} bytes) does not equal the expected ${expected.length}-byte binding`,
        );
      }
    });
  }
  if (input.expectedImagePhkh !== undefined) {
    rec.run(
      'se.image-phkh',
      [decoded, input.expectedImagePhkh],
      (d, expected) => checkPhkh('image PHKH', d.additional.imagePhkh, expected),
      (phkh) => phkh,
    );
  }
  if (input.expectedAttestationPhkh !== undefined) {
    rec.run(
      'se.attestation-phkh',
      [decoded, input.expectedAttestationPhkh],
      (d, expected) => checkPhkh('attestation PHKH', d.additional.attestationPhkh, expected),
      (phkh) => phkh,
    );
  }
  return {
    ok: rec.allPassed(REQUIRED_SE_CHECKS),
    checks: rec.checks,
    cuid: decoded?.file.configUid,
    userData: decoded === undefined ? undefined : (decoded.file.userData ?? Buffer.alloc(0)),
    measurement: decoded?.file.measurement,
    flags: decoded?.flags,
    additionalData: decoded?.additional,
  };
}

function decodeResponse(response: Buffer): DecodedResponse {
  const file = parseAttestationResponse(response);
  if (file.measurement.length !== SE_MEASUREMENT_BYTES) {
    throw new Error(`measurement is ${file.measurement.length} bytes, HMAC-SHA512 gives 64`);
  }
  const { flags } = parseArcb(file.arcb);
  return { file, flags, additional: splitAdditionalData(file.additionalData ?? Buffer.alloc(0), flags) };
}

function describeFormat(d: DecodedResponse): string {
  const requested = (Object.keys(SE_ADDITIONAL_DATA_SIZES) as (keyof SeAdditionalData)[]).filter((k) => d.flags[k]);
  return `cuid ${d.file.configUid.toString('hex')}, ${d.file.userData?.length ?? 0} B user data, additional: ${
    requested.join(', ') || 'none'
  }`;
}

/** Splits additional data in UV order (image PHKH, attestation PHKH, secret-store hash, firmware state). */
function splitAdditionalData(data: Buffer, flags: SeAttestationFlags): SeAdditionalData {
  const out: Record<string, Buffer> = {};
  let at = 0;
  for (const name of Object.keys(SE_ADDITIONAL_DATA_SIZES) as (keyof typeof SE_ADDITIONAL_DATA_SIZES)[]) {
    if (!flags[name]) continue;
    const size = SE_ADDITIONAL_DATA_SIZES[name];
    if (data.length < at + size) throw new Error(`additional data lacks the requested ${name} (${size} bytes)`);
    out[name] = Buffer.from(data.subarray(at, at + size));
    at += size;
  }
  if (at !== data.length) throw new Error(`additional data has ${data.length - at} bytes the request did not ask for`);
  return out;
}

function checkRequest(arcb: Buffer, secrets: SeRequestSecrets): void {
  const opened = decryptArcb(arcb, secrets.arpk);
  const same = (a: Buffer, b: Buffer): boolean => Buffer.isBuffer(b) && a.length === b.length && timingSafeEqual(a, b);
  if (!same(opened.measurementKey, secrets.measurementKey) || !same(opened.nonce, secrets.nonce)) {
    throw new Error('the response answers a request that was not created with these secrets');
  }
}

function checkPhkh(what: string, actual: Buffer | undefined, expected: Buffer | readonly Buffer[]): string {
  if (actual === undefined) throw new Error(`${what} was not requested, so it cannot be checked`);
  const allowed: readonly Buffer[] = Buffer.isBuffer(expected) ? [expected] : expected;
  if (!allowed.some((candidate) => candidate.length === actual.length && timingSafeEqual(candidate, actual))) {
    throw new Error(`${what} ${actual.toString('hex')} is not an allowed host key hash`);
  }
  return actual.toString('hex');
}
