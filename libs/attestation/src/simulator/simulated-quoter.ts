import { createHash, createPrivateKey, generateKeyPairSync } from 'node:crypto';

import type { TdxCollateral } from '../collateral/collateral.types';
import { rawPointFromPublicKey, signRawEcdsa } from '../crypto/ecdsa';
import { AttestationInputError } from '../errors';
import { parseCertificate, sgxExtensionOf } from '../pck/certificates';
import { INTEL_QE_VENDOR_ID } from '../tdx/constants';
import type { QeReport, TdReportBody, TdxQuoteHeader } from '../tdx/quote.types';
import { serializeSignedRegion, serializeTdxQuote } from '../tdx/quote-serializer';
import { encodeQeReport } from '../tdx/report-layouts';
import { SIMULATED_MEASUREMENTS, SIMULATED_QE, SIMULATED_TD, type SimulatedMeasurementName } from './measurements';
import { buildSimulatedCollateral } from './simulated-collateral';
import {
  SIMULATOR_PCK_CERT_PEM,
  SIMULATOR_PCK_KEY_PEM,
  SIMULATOR_PCK_PLATFORM_CA_PEM,
  SIMULATOR_ROOT_CA_PEM,
} from './test-pki';

/** Options of the simulated quoting enclave. */
export interface SimulatedTdxQuoterOptions {
  /** Clock for collateral issueDate/nextUpdate (tests inject it). */
  readonly now?: () => Date;
  /** Overrides of the fixed SIMULATED_MEASUREMENTS (48 bytes each). */
  readonly measurements?: Partial<Record<SimulatedMeasurementName, Buffer>>;
}

/** A simulated TD quoting enclave: real DCAP bytes under the NOT-INTEL test PKI, no isolation at all. */
export interface SimulatedTdxQuoter {
  /** Raw x‖y of this instance's attestation key (fresh per "simulated boot"). */
  readonly attestationKey: Buffer;
  /** Produces a v4 quote whose REPORTDATA is `reportData` (exactly 64 bytes) and matching collateral. */
  quote(reportData: Buffer): Promise<{ quote: Buffer; collateral: TdxCollateral }>;
}

/** QE auth data the simulator embeds: bytes 00..1f. */
const QE_AUTH_DATA = Buffer.from(Array.from({ length: 32 }, (_, i) => i));

function measurementsOf(
  overrides: SimulatedTdxQuoterOptions['measurements'],
): Record<SimulatedMeasurementName, Buffer> {
  const names = Object.keys(SIMULATED_MEASUREMENTS) as SimulatedMeasurementName[];
  for (const name of Object.keys(overrides ?? {})) {
    if (!names.includes(name as SimulatedMeasurementName)) {
      throw new AttestationInputError(`simulator: unknown measurement ${name}`);
    }
  }
  const entries = names.map((name) => {
    const value = overrides?.[name] ?? Buffer.from(SIMULATED_MEASUREMENTS[name], 'hex');
    if (!Buffer.isBuffer(value) || value.length !== 48) {
      throw new AttestationInputError(`simulator: measurement ${name} must be a 48-byte Buffer`);
    }
    return [name, Buffer.from(value)] as const;
  });
  return Object.fromEntries(entries) as Record<SimulatedMeasurementName, Buffer>;
}

function tdBody(m: Record<SimulatedMeasurementName, Buffer>, reportData: Buffer): TdReportBody {
  const hex = (value: string): Buffer => Buffer.from(value, 'hex');
  return {
    bodyType: 2,
    teeTcbSvn: hex(SIMULATED_TD.teeTcbSvn),
    mrSeam: hex(SIMULATED_TD.mrSeam),
    mrSignerSeam: hex(SIMULATED_TD.mrSignerSeam),
    seamAttributes: hex(SIMULATED_TD.seamAttributes),
    tdAttributes: hex(SIMULATED_TD.tdAttributes),
    xfam: hex(SIMULATED_TD.xfam),
    mrTd: m.mrtd,
    mrConfigId: m.mrconfigid,
    mrOwner: m.mrowner,
    mrOwnerConfig: m.mrownerconfig,
    rtmr0: m.rtmr0,
    rtmr1: m.rtmr1,
    rtmr2: m.rtmr2,
    rtmr3: m.rtmr3,
    reportData: Buffer.from(reportData),
  };
}

function qeReport(cpuSvn: Buffer, attestationKey: Buffer): QeReport {
  const digest = createHash('sha256').update(attestationKey).update(QE_AUTH_DATA).digest();
  return {
    cpuSvn,
    miscSelect: 0,
    reserved1: Buffer.alloc(28),
    attributes: Buffer.from(SIMULATED_QE.attributes, 'hex'),
    mrEnclave: Buffer.from(SIMULATED_QE.mrEnclave, 'hex'),
    reserved2: Buffer.alloc(32),
    mrSigner: Buffer.from(SIMULATED_QE.mrSigner, 'hex'),
    reserved3: Buffer.alloc(32),
    configId: Buffer.alloc(64),
    isvProdId: SIMULATED_QE.isvProdId,
    isvSvn: SIMULATED_QE.isvSvn,
    configSvn: 0,
    reserved4: Buffer.alloc(42),
    isvFamilyId: Buffer.alloc(16),
    reportData: Buffer.concat([digest, Buffer.alloc(32)]),
  };
}

const HEADER: TdxQuoteHeader = {
  version: 4,
  attestationKeyType: 2,
  teeType: 0x81,
  reserved: Buffer.alloc(4),
  qeVendorId: INTEL_QE_VENDOR_ID,
  userData: Buffer.concat([Buffer.from(SIMULATED_QE.qeId, 'hex'), Buffer.alloc(4)]),
};

/** Creates a simulated quoting enclave with a fresh attestation key; its PCK chain ends at the simulator root. */
export function createSimulatedTdxQuoter(options: SimulatedTdxQuoterOptions = {}): SimulatedTdxQuoter {
  const now = options.now ?? (() => new Date());
  const measurements = measurementsOf(options.measurements);
  const pckKey = createPrivateKey(SIMULATOR_PCK_KEY_PEM);
  const platform = sgxExtensionOf(parseCertificate(SIMULATOR_PCK_CERT_PEM));
  const chain = Buffer.from(
    `${SIMULATOR_PCK_CERT_PEM}${SIMULATOR_PCK_PLATFORM_CA_PEM}${SIMULATOR_ROOT_CA_PEM}\0`,
    'latin1',
  );
  const ak = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const attestationKey = rawPointFromPublicKey(ak.publicKey);
  const report = qeReport(platform.tcb.cpuSvn, attestationKey);
  const qeReportSignature = signRawEcdsa(pckKey, encodeQeReport(report));

  return {
    attestationKey: Buffer.from(attestationKey),
    async quote(reportData: Buffer) {
      if (!Buffer.isBuffer(reportData) || reportData.length !== 64) {
        throw new AttestationInputError('simulator: reportData must be exactly 64 bytes (TDX inblob)');
      }
      const body = tdBody(measurements, reportData);
      const quote = serializeTdxQuote({
        header: HEADER,
        body,
        signatureData: {
          quoteSignature: signRawEcdsa(ak.privateKey, serializeSignedRegion(HEADER, body)),
          attestationKey,
          certificationData: {
            type: 6,
            qeReport: report,
            qeReportSignature,
            qeAuthData: QE_AUTH_DATA,
            pckCertChain: { type: 5, data: chain, certificatesPem: [] },
          },
        },
      });
      const collateral = buildSimulatedCollateral({ pck: platform, teeTcbSvn: body.teeTcbSvn }, now());
      return { quote, collateral };
    },
  };
}
