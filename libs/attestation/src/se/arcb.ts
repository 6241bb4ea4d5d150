import { createPublicKey, generateKeyPairSync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';

import { AttestationInputError } from '../errors';
import { serializeAttestationRequest } from './exchange-format';
import { SE_MEASUREMENT_BYTES, SE_MEASUREMENT_KEY_BYTES, SE_NONCE_BYTES } from './measurement';
import {
  aesGcmOpen,
  aesGcmSeal,
  AES_GCM_TAG_BYTES,
  computePublicHostKeyHash,
  deriveKeyslotKek,
  p521Coordinates,
  p521PublicKeyFromCoordinates,
} from './se-crypto';
import { SeFormatError, SeUltravisorError } from './se-errors';

/** ARCB version 1 (rqvn 0x0100), the only one defined. */
export const SE_ARCB_VERSION = 0x0100;
/** Measurement algorithm identifier 1 = HMAC-SHA512. */
export const SE_MAI_HMAC_SHA512 = 1;

const STRUCTURE = 'IBM SE attestation request (ARCB)';
const OFF = {
  magic: 0x00,
  version: 0x08,
  length: 0x0c,
  iv: 0x10,
  reserved1c: 0x1c,
  nks: 0x27,
  reserved28: 0x28,
  sea: 0x2c,
  flags: 0x30,
  mai: 0x38,
  reserved3c: 0x3c,
  customerKey: 0x40,
  keyslots: 0xe0,
} as const;
const IV_BYTES = 12;
const CUSTOMER_KEY_BYTES = 160;
const PHKH_BYTES = 32;
const ARPK_BYTES = 32;
const KEYSLOT_BYTES = PHKH_BYTES + ARPK_BYTES + AES_GCM_TAG_BYTES;
/** Encrypted area of a v1 ARCB with nonce: measurement key 64 ‖ nonce 16. */
const SEA_WITH_NONCE = SE_MEASUREMENT_KEY_BYTES + SE_NONCE_BYTES;
const MAX_KEYSLOTS = 0xff;

/** Additional-data sizes per flag (s390-tools FLAG_TO_ADD_SIZE). */
export const SE_ADDITIONAL_DATA_SIZES = {
  imagePhkh: 32,
  attestationPhkh: 32,
  secretStoreHash: 64,
  firmwareState: 320,
} as const;

/** Decoded plaintext attestation flags (u64, MSB-0 bit numbers 1–5). */
export interface SeAttestationFlags {
  /** Bit 1: the encrypted area carries a nonce that enters the measurement (always set by this library). */
  readonly nonce: boolean;
  /** Bit 2: return the PHKH of the host key that unpacked the SE image. */
  readonly imagePhkh: boolean;
  /** Bit 3: return the PHKH of the host key that decrypted this request. */
  readonly attestationPhkh: boolean;
  /** Bit 4: return the hash of the guest's secret store. */
  readonly secretStoreHash: boolean;
  /** Bit 5: return the firmware state. */
  readonly firmwareState: boolean;
}

/** Additional data a verifier may request; the nonce is always used. */
export type SeRequestFlags = Partial<Omit<SeAttestationFlags, 'nonce'>>;

/** One host-key slot: the host key's hash and the ARPK wrapped for it. */
export interface SeKeyslot {
  readonly phkh: Buffer;
  readonly wrappedArpk: Buffer;
  readonly tag: Buffer;
}

/** A structurally valid ARCB (nothing decrypted). */
export interface SeArcb {
  readonly version: number;
  readonly length: number;
  readonly iv: Buffer;
  readonly keyslotCount: number;
  /** Size of the encrypted area (80: measurement key + nonce). */
  readonly encryptedAreaLength: number;
  readonly flags: SeAttestationFlags;
  /** The raw u64 flags. */
  readonly flagsValue: bigint;
  readonly mai: number;
  readonly measurementAlgorithm: 'HMAC-SHA512';
  readonly measurementKeyLength: number;
  /** The request's ephemeral customer P-521 public key, X80 ‖ Y80. */
  readonly customerPublicKey: Buffer;
  readonly keyslots: readonly SeKeyslot[];
  /** Everything before the encrypted area: the AES-GCM additional authenticated data. */
  readonly aad: Buffer;
  /** Encrypted area followed by its 16-byte tag. */
  readonly sealed: Buffer;
}

/** The confidential parts of a request; only its creator may hold them (attestation.md §5.3). */
export interface SeRequestSecrets {
  /** Attestation request protection key (AES-256). */
  readonly arpk: Buffer;
  /** HMAC-SHA512 key of the measurement (64 bytes). */
  readonly measurementKey: Buffer;
  /** Request nonce (16 bytes). */
  readonly nonce: Buffer;
}

/** Inputs of `createAttestationRequest`. */
export interface CreateAttestationRequestInput {
  /** P-521 public host keys (from verified HKD certificates); one keyslot each. */
  readonly hostKeys: readonly KeyObject[];
  readonly flags?: SeRequestFlags;
  /** Random source (tests inject a deterministic one); defaults to crypto.randomBytes. */
  readonly random?: (size: number) => Buffer;
}

/** A new request: the ARCB, the exchange file to send to the guest, and the secrets to keep. */
export interface SeAttestationRequest {
  readonly arcb: Buffer;
  /** The ARCB wrapped in a pvattest exchange file (what `pvattest perform` reads). */
  readonly requestFile: Buffer;
  readonly flags: SeAttestationFlags;
  readonly secrets: SeRequestSecrets;
}

/** What the Ultravisor learns from a request it can decrypt. */
export interface OpenedArcb {
  readonly measurementKey: Buffer;
  readonly nonce: Buffer;
  readonly flags: SeAttestationFlags;
  /** PHKH of the keyslot that decrypted the request (the attestation PHKH). */
  readonly attestationPhkh: Buffer;
}

const FLAG_BITS: Record<keyof SeAttestationFlags, number> = {
  nonce: 1,
  imagePhkh: 2,
  attestationPhkh: 3,
  secretStoreHash: 4,
  firmwareState: 5,
};
const KNOWN_FLAGS = Object.values(FLAG_BITS).reduce((mask, bit) => mask | flagBit(bit), 0n);

function flagBit(msb0: number): bigint {
  return 1n << BigInt(63 - msb0);
}

/** Encodes flags as the u64 of the ARCB. */
export function encodeSeAttestationFlags(flags: SeAttestationFlags): bigint {
  return (Object.keys(FLAG_BITS) as (keyof SeAttestationFlags)[]).reduce(
    (value, name) => (flags[name] ? value | flagBit(FLAG_BITS[name]) : value),
    0n,
  );
}

/** Decodes the u64 flags; unknown bits are the caller's to reject. */
export function decodeSeAttestationFlags(value: bigint): SeAttestationFlags {
  const has = (name: keyof SeAttestationFlags): boolean => (value & flagBit(FLAG_BITS[name])) !== 0n;
  return {
    nonce: has('nonce'),
    imagePhkh: has('imagePhkh'),
    attestationPhkh: has('attestationPhkh'),
    secretStoreHash: has('secretStoreHash'),
    firmwareState: has('firmwareState'),
  };
}

/** Size of the additional data the Ultravisor returns for these flags (PHKHs 32, secret store 64, firmware 320). */
export function expectedAdditionalDataSize(flags: SeRequestFlags): number {
  return (Object.keys(SE_ADDITIONAL_DATA_SIZES) as (keyof typeof SE_ADDITIONAL_DATA_SIZES)[]).reduce(
    (size, name) => size + (flags[name] ? SE_ADDITIONAL_DATA_SIZES[name] : 0),
    0,
  );
}

/**
 * Parses an ARCB v1 structurally (attestation.md §5.1): zero magic, version 0x0100, length matching the
 * buffer and the keyslot count, encrypted area 80 (measurement key + nonce), known flags with the nonce
 * set, MAI 1, zero reserved bytes and zero coordinate padding. Nothing is decrypted.
 */
export function parseArcb(buf: Buffer): SeArcb {
  const fail = (field: string, offset: number, reason: string): never => {
    throw new SeFormatError(STRUCTURE, field, offset, reason);
  };
  if (!Buffer.isBuffer(buf)) return fail('arcb', 0, 'not a Buffer');
  if (buf.length < OFF.keyslots) return fail('header', 0, `truncated: ${buf.length} bytes, the header is 224`);
  if (buf.subarray(OFF.magic, OFF.magic + 8).some((b) => b !== 0)) {
    fail('magic', OFF.magic, `0x${buf.subarray(0, 8).toString('hex')} is not eight zero bytes`);
  }
  const version = buf.readUInt32BE(OFF.version);
  if (version !== SE_ARCB_VERSION) fail('version', OFF.version, `unsupported version 0x${version.toString(16)}`);
  const nks = buf[OFF.nks];
  if (nks === 0) fail('nks', OFF.nks, 'no keyslots');
  const sea = buf.readUInt32BE(OFF.sea);
  const flagsValue = buf.readBigUInt64BE(OFF.flags);
  const mai = buf.readUInt32BE(OFF.mai);
  if (mai !== SE_MAI_HMAC_SHA512) fail('mai', OFF.mai, `measurement algorithm ${mai} is not 1 (HMAC-SHA512)`);
  if ((flagsValue & ~KNOWN_FLAGS) !== 0n) {
    fail('flags', OFF.flags, `unknown flag bits 0x${(flagsValue & ~KNOWN_FLAGS).toString(16).padStart(16, '0')}`);
  }
  const flags = decodeSeAttestationFlags(flagsValue);
  if (!flags.nonce) fail('flags', OFF.flags, 'the nonce flag (bit 1) is not set: such a request has no freshness');
  if (sea !== SEA_WITH_NONCE) fail('sea', OFF.sea, `encrypted area of ${sea} bytes is not 80 (key 64 + nonce 16)`);
  const length = buf.readUInt32BE(OFF.length);
  const expectedLength = OFF.keyslots + nks * KEYSLOT_BYTES + sea + AES_GCM_TAG_BYTES;
  if (length !== expectedLength) {
    fail('length', OFF.length, `rql ${length} does not match ${nks} keyslot(s) and sea ${sea} (${expectedLength})`);
  }
  if (buf.length !== length) {
    fail('length', OFF.length, `rql ${length} but the buffer has ${buf.length} bytes`);
  }
  for (const [start, end] of [
    [OFF.reserved1c, OFF.nks],
    [OFF.reserved28, OFF.sea],
    [OFF.reserved3c, OFF.customerKey],
  ]) {
    if (buf.subarray(start, end).some((b) => b !== 0)) fail('reserved', start, 'reserved bytes must be zero');
  }
  const customerPublicKey = Buffer.from(buf.subarray(OFF.customerKey, OFF.customerKey + CUSTOMER_KEY_BYTES));
  for (const half of [0, 80]) {
    if (customerPublicKey.subarray(half, half + 14).some((b) => b !== 0)) {
      fail('customerPublicKey', OFF.customerKey + half, 'P-521 coordinate padding (14 bytes) is not zero');
    }
  }
  const keyslots: SeKeyslot[] = [];
  for (let i = 0; i < nks; i++) {
    const at = OFF.keyslots + i * KEYSLOT_BYTES;
    keyslots.push({
      phkh: Buffer.from(buf.subarray(at, at + PHKH_BYTES)),
      wrappedArpk: Buffer.from(buf.subarray(at + PHKH_BYTES, at + PHKH_BYTES + ARPK_BYTES)),
      tag: Buffer.from(buf.subarray(at + PHKH_BYTES + ARPK_BYTES, at + KEYSLOT_BYTES)),
    });
  }
  const aadEnd = OFF.keyslots + nks * KEYSLOT_BYTES;
  return {
    version,
    length,
    iv: Buffer.from(buf.subarray(OFF.iv, OFF.iv + IV_BYTES)),
    keyslotCount: nks,
    encryptedAreaLength: sea,
    flags,
    flagsValue,
    mai,
    measurementAlgorithm: 'HMAC-SHA512',
    measurementKeyLength: SE_MEASUREMENT_KEY_BYTES,
    customerPublicKey,
    keyslots,
    aad: Buffer.from(buf.subarray(0, aadEnd)),
    sealed: Buffer.from(buf.subarray(aadEnd)),
  };
}

/**
 * Creates an attestation request for the given host keys (what `pvattest create` does): a fresh ARPK,
 * measurement key, nonce and ephemeral customer key; one keyslot per host key. Keep `secrets` private:
 * whoever holds them can forge measurements for this request.
 */
export function createAttestationRequest(input: CreateAttestationRequestInput): SeAttestationRequest {
  const hostKeys = input.hostKeys;
  if (!Array.isArray(hostKeys) || hostKeys.length === 0 || hostKeys.length > MAX_KEYSLOTS) {
    throw new AttestationInputError('IBM SE request: hostKeys must list 1..255 P-521 public host keys');
  }
  const random = input.random ?? randomBytes;
  const take = (size: number, what: string): Buffer => {
    const value = random(size);
    if (!Buffer.isBuffer(value) || value.length !== size) {
      throw new AttestationInputError(`IBM SE request: random source returned no ${size}-byte ${what}`);
    }
    return Buffer.from(value);
  };
  const flags: SeAttestationFlags = {
    nonce: true,
    imagePhkh: input.flags?.imagePhkh === true,
    attestationPhkh: input.flags?.attestationPhkh === true,
    secretStoreHash: input.flags?.secretStoreHash === true,
    firmwareState: input.flags?.firmwareState === true,
  };
  const secrets: SeRequestSecrets = {
    arpk: take(ARPK_BYTES, 'ARPK'),
    measurementKey: take(SE_MEASUREMENT_KEY_BYTES, 'measurement key'),
    nonce: take(SE_NONCE_BYTES, 'nonce'),
  };
  const iv = take(IV_BYTES, 'IV');
  // Ephemeral: used only to wrap this request's ARPK, then dropped.
  const customer = generateKeyPairSync('ec', { namedCurve: 'secp521r1' });
  const keyslots = hostKeys.map((hostKey) => {
    const publicKey = hostKey.type === 'private' ? createPublicKey(hostKey) : hostKey;
    const phkh = computePublicHostKeyHash(publicKey); // also rejects keys that are not P-521
    const kek = deriveKeyslotKek(customer.privateKey, publicKey);
    return Buffer.concat([phkh, aesGcmSeal(kek, Buffer.alloc(12), Buffer.alloc(0), secrets.arpk)]);
  });
  const arcb = assembleArcb({
    iv,
    flagsValue: encodeSeAttestationFlags(flags),
    customerPublicKey: p521Coordinates(customer.publicKey),
    keyslots,
    ...secrets,
  });
  const requestFile = serializeAttestationRequest({
    arcb,
    measurementSize: SE_MEASUREMENT_BYTES,
    additionalDataSize: expectedAdditionalDataSize(flags),
  });
  return { arcb, requestFile, flags, secrets };
}

/** Parts of an ARCB before encryption; exported for known-answer tests against s390-tools' arcb.bin. */
export interface ArcbParts extends SeRequestSecrets {
  readonly iv: Buffer;
  readonly flagsValue: bigint;
  readonly customerPublicKey: Buffer;
  /** Encoded keyslots, 80 bytes each. */
  readonly keyslots: readonly Buffer[];
}

/** Lays out header, customer key and keyslots, then seals measurement key ‖ nonce with the ARPK (AAD = all of it). */
export function assembleArcb(parts: ArcbParts): Buffer {
  const nks = parts.keyslots.length;
  const aad = Buffer.alloc(OFF.keyslots + nks * KEYSLOT_BYTES);
  aad.writeUInt32BE(SE_ARCB_VERSION, OFF.version);
  aad.writeUInt32BE(aad.length + SEA_WITH_NONCE + AES_GCM_TAG_BYTES, OFF.length);
  parts.iv.copy(aad, OFF.iv);
  aad[OFF.nks] = nks;
  aad.writeUInt32BE(SEA_WITH_NONCE, OFF.sea);
  aad.writeBigUInt64BE(parts.flagsValue, OFF.flags);
  aad.writeUInt32BE(SE_MAI_HMAC_SHA512, OFF.mai);
  parts.customerPublicKey.copy(aad, OFF.customerKey);
  parts.keyslots.forEach((slot, i) => slot.copy(aad, OFF.keyslots + i * KEYSLOT_BYTES));
  const sealed = aesGcmSeal(parts.arpk, parts.iv, aad, Buffer.concat([parts.measurementKey, parts.nonce]));
  return Buffer.concat([aad, sealed]);
}

/**
 * Decrypts an ARCB with its ARPK (the verifier side, like `pvattest verify --arpk`); authenticates every
 * plaintext byte of the request. Throws SeFormatError on structure or authentication failure.
 */
export function decryptArcb(
  arcb: Buffer,
  arpk: Buffer,
): { measurementKey: Buffer; nonce: Buffer; flags: SeAttestationFlags } {
  const parsed = parseArcb(arcb);
  if (!Buffer.isBuffer(arpk) || arpk.length !== ARPK_BYTES) {
    throw new AttestationInputError('IBM SE request: the ARPK must be 32 bytes');
  }
  let plain: Buffer;
  try {
    plain = aesGcmOpen(arpk, parsed.iv, parsed.aad, parsed.sealed);
  } catch {
    throw new SeFormatError(
      STRUCTURE,
      'encryptedArea',
      parsed.aad.length,
      'AES-GCM authentication failed: wrong ARPK or altered request',
    );
  }
  return {
    measurementKey: plain.subarray(0, SE_MEASUREMENT_KEY_BYTES),
    nonce: plain.subarray(SE_MEASUREMENT_KEY_BYTES, SEA_WITH_NONCE),
    flags: parsed.flags,
  };
}

/**
 * The Ultravisor's side: finds the keyslot of `hostPrivateKey` by its PHKH, unwraps the ARPK with the
 * ECDH-derived KEK and decrypts the request. Throws SeFormatError on structure, SeUltravisorError rc
 * 0x010c when no keyslot decrypts.
 */
export function openArcb(arcb: Buffer, hostPrivateKey: KeyObject): OpenedArcb {
  const parsed = parseArcb(arcb);
  if (hostPrivateKey.type !== 'private') throw new AttestationInputError('IBM SE: openArcb needs the host private key');
  const phkh = computePublicHostKeyHash(hostPrivateKey);
  const slot = parsed.keyslots.find((candidate) => timingSafeEqual(candidate.phkh, phkh));
  if (slot === undefined) throw new SeUltravisorError(0x010c, 'no keyslot for this host key');
  let arpk: Buffer;
  let customerKey: KeyObject;
  try {
    customerKey = p521PublicKeyFromCoordinates(parsed.customerPublicKey);
  } catch (error) {
    throw new SeFormatError(STRUCTURE, 'customerPublicKey', OFF.customerKey, `not a P-521 point: ${String(error)}`);
  }
  try {
    const kek = deriveKeyslotKek(hostPrivateKey, customerKey);
    arpk = aesGcmOpen(kek, Buffer.alloc(12), Buffer.alloc(0), Buffer.concat([slot.wrappedArpk, slot.tag]));
  } catch (error) {
    throw new SeUltravisorError(0x010c, 'the keyslot does not unwrap with this host key', { cause: error });
  }
  try {
    const { measurementKey, nonce, flags } = decryptArcb(arcb, arpk);
    return { measurementKey, nonce, flags, attestationPhkh: phkh };
  } catch (error) {
    throw new SeUltravisorError(0x010c, 'the request does not decrypt with the unwrapped ARPK', { cause: error });
  }
}
