import { createHash, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';

import { AttestationInputError } from '../errors';
import { expectedAdditionalDataSize, openArcb, type OpenedArcb } from './arcb';
import { parseAttestationRequest, serializeAttestationResponse } from './exchange-format';
import {
  computeSeMeasurement,
  SE_CUID_BYTES,
  SE_DIGEST_BYTES,
  SE_MEASUREMENT_BYTES,
  SE_TAG_BYTES,
  SE_USER_DATA_MAX_BYTES,
} from './measurement';
import { computePublicHostKeyHash } from './se-crypto';
import { SeFormatError, SeUltravisorError } from './se-errors';
import type { BootHdrTags } from './se-header';

const label = (name: string): Buffer => createHash('sha512').update(`securebuild.dev/se-simulator/v1/${name}`).digest();

/**
 * Tags of the fake SE image the simulator "boots" unless told otherwise. Fixed so that tests and
 * reference-value documents can name them; no real SE image has them.
 */
export const SIMULATED_SE_HEADER: BootHdrTags = Object.freeze({
  pld: label('pld'),
  ald: label('ald'),
  tld: label('tld'),
  tag: label('tag').subarray(0, SE_TAG_BYTES),
});

/** Options of the simulated SE guest. */
export interface SimulatedSeGuestOptions {
  /** Tags of the SE image this guest runs; defaults to SIMULATED_SE_HEADER. */
  readonly header?: BootHdrTags;
}

/**
 * A software Ultravisor plus guest: one TEST host key (its public key plays the HKD) and one fake SE
 * image. It gives no isolation at all; only the host-key anchor tells its evidence from hardware's.
 */
export interface SimulatedSeGuest {
  /** The TEST P-521 host key (fresh per instance); requests must have a keyslot for it. */
  readonly hostPublicKey: KeyObject;
  /** PHKH of the host key; reported as both image and attestation PHKH. */
  readonly hostKeyHash: Buffer;
  readonly header: BootHdrTags;
  /** Configuration unique id of this guest (random per instance). */
  readonly cuid: Buffer;
  /**
   * `pvattest perform`: reads the request exchange file, lets the Ultravisor open the ARCB and measure,
   * and returns the response exchange file. Throws SeUltravisorError with the architected rc.
   */
  perform(requestExchange: Buffer, userData: Buffer): Buffer;
}

/** Creates a simulated SE guest with its own TEST host key and a random CUID. */
export function createSimulatedSeGuest(options: SimulatedSeGuestOptions = {}): SimulatedSeGuest {
  const header = options.header ?? SIMULATED_SE_HEADER;
  validateHeader(header);
  const host = generateKeyPairSync('ec', { namedCurve: 'secp521r1' });
  const hostKeyHash = computePublicHostKeyHash(host.publicKey);
  const cuid = randomBytes(SE_CUID_BYTES);

  return {
    hostPublicKey: host.publicKey,
    hostKeyHash,
    header,
    cuid: Buffer.from(cuid),
    perform(requestExchange: Buffer, userData: Buffer): Buffer {
      const request = parseAttestationRequest(requestExchange);
      if (!Buffer.isBuffer(userData) || userData.length > SE_USER_DATA_MAX_BYTES) {
        throw new SeUltravisorError(0x0102, 'user data length is greater than 256');
      }
      const opened = openAsUltravisor(request.arcb, host.privateKey);
      if (request.measurementSize < SE_MEASUREMENT_BYTES) {
        throw new SeUltravisorError(0x010d, 'measurement data length is not large enough to store the measurement');
      }
      const additionalSize = expectedAdditionalDataSize(opened.flags);
      if (request.additionalDataSize < additionalSize) {
        throw new SeUltravisorError(
          0x010e,
          'additional data length not large enough for the requested additional data',
        );
      }
      const additionalData = Buffer.concat([
        opened.flags.imagePhkh ? hostKeyHash : Buffer.alloc(0), // this host key "unpacked" the image
        opened.flags.attestationPhkh ? opened.attestationPhkh : Buffer.alloc(0),
        // SHA-512 over the (empty) list of add-secret request tags and the "not locked" byte.
        opened.flags.secretStoreHash
          ? createHash('sha512')
              .update(Buffer.from([0]))
              .digest()
          : Buffer.alloc(0),
        opened.flags.firmwareState ? Buffer.alloc(320) : Buffer.alloc(0), // no firmware to report
      ]);
      const measurement = computeSeMeasurement(opened.measurementKey, {
        ...header,
        cuid,
        userData,
        nonce: opened.flags.nonce ? opened.nonce : undefined,
        additionalData,
      });
      return serializeAttestationResponse({
        arcb: request.arcb,
        measurement,
        additionalData,
        userData,
        configUid: cuid,
      });
    },
  };
}

/** UV return codes for structural ARCB errors (uvdevice rc table, attestation.md §5.1). */
const RC_BY_FIELD: Record<string, number> = {
  version: 0x0106,
  length: 0x0107,
  header: 0x0107,
  nks: 0x0108,
  sea: 0x0109,
  flags: 0x010a,
  mai: 0x010b,
  customerPublicKey: 0x010c,
};

function openAsUltravisor(arcb: Buffer, hostPrivateKey: KeyObject): OpenedArcb {
  try {
    return openArcb(arcb, hostPrivateKey);
  } catch (error) {
    if (error instanceof SeFormatError) {
      throw new SeUltravisorError(RC_BY_FIELD[error.field] ?? 0x0107, error.message, { cause: error });
    }
    throw error;
  }
}

function validateHeader(header: BootHdrTags): void {
  const sizes: [keyof BootHdrTags, number][] = [
    ['pld', SE_DIGEST_BYTES],
    ['ald', SE_DIGEST_BYTES],
    ['tld', SE_DIGEST_BYTES],
    ['tag', SE_TAG_BYTES],
  ];
  for (const [name, size] of sizes) {
    if (!Buffer.isBuffer(header[name]) || header[name].length !== size) {
      throw new AttestationInputError(`simulated SE guest: header.${name} must be ${size} bytes`);
    }
  }
}
