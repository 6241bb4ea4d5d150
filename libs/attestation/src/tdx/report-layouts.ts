import { QuoteFormatError } from '../errors';
import type { QeReport, TdReportBody } from './quote.types';
import type { QuoteReader } from './byte-reader';
import { SGX_REPORT_BYTES } from './constants';

type BufferKeys<T> = { [K in keyof T]-?: NonNullable<T[K]> extends Buffer ? K : never }[keyof T];
type Layout<T> = readonly (readonly [BufferKeys<T>, number])[];

const TD10_LAYOUT: Layout<TdReportBody> = [
  ['teeTcbSvn', 16],
  ['mrSeam', 48],
  ['mrSignerSeam', 48],
  ['seamAttributes', 8],
  ['tdAttributes', 8],
  ['xfam', 8],
  ['mrTd', 48],
  ['mrConfigId', 48],
  ['mrOwner', 48],
  ['mrOwnerConfig', 48],
  ['rtmr0', 48],
  ['rtmr1', 48],
  ['rtmr2', 48],
  ['rtmr3', 48],
  ['reportData', 64],
];
const TD15_EXTRA: Layout<TdReportBody> = [
  ['teeTcbSvn2', 16],
  ['mrServiceTd', 48],
];

function readFields<T>(reader: QuoteReader, layout: Layout<T>, prefix: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [key, length] of layout) out[String(key)] = reader.take(length, `${prefix}.${String(key)}`);
  return out;
}

function writeFields<T>(value: T, layout: Layout<T>, prefix: string, base: number): Buffer[] {
  let offset = base;
  return layout.map(([key, length]) => {
    const field = value[key];
    if (!Buffer.isBuffer(field) || field.length !== length) {
      throw new QuoteFormatError(`${prefix}.${String(key)}`, offset, `must be a Buffer of ${length} bytes`);
    }
    offset += length;
    return field;
  });
}

/** Reads a TD report body of the given type (2 = TD 1.0, 3 = TD 1.5). */
export function decodeTdReport(reader: QuoteReader, bodyType: 2 | 3): TdReportBody {
  const fields = readFields(reader, bodyType === 3 ? [...TD10_LAYOUT, ...TD15_EXTRA] : TD10_LAYOUT, 'body');
  return { bodyType, ...fields } as unknown as TdReportBody;
}

/** Encodes a TD report body; `base` is its absolute offset (for error messages). */
export function encodeTdReport(body: TdReportBody, base: number): Buffer {
  const layout = body.bodyType === 3 ? [...TD10_LAYOUT, ...TD15_EXTRA] : TD10_LAYOUT;
  return Buffer.concat(writeFields(body, layout, 'body', base));
}

/** Reads the 384-byte QE (SGX) report. */
export function decodeQeReport(reader: QuoteReader): QeReport {
  const f = 'qeReport';
  const take = (length: number, name: string): Buffer => reader.take(length, `${f}.${name}`);
  return {
    cpuSvn: take(16, 'cpuSvn'),
    miscSelect: reader.u32(`${f}.miscSelect`),
    reserved1: take(28, 'reserved1'),
    attributes: take(16, 'attributes'),
    mrEnclave: take(32, 'mrEnclave'),
    reserved2: take(32, 'reserved2'),
    mrSigner: take(32, 'mrSigner'),
    reserved3: take(32, 'reserved3'),
    configId: take(64, 'configId'),
    isvProdId: reader.u16(`${f}.isvProdId`),
    isvSvn: reader.u16(`${f}.isvSvn`),
    configSvn: reader.u16(`${f}.configSvn`),
    reserved4: take(42, 'reserved4'),
    isvFamilyId: take(16, 'isvFamilyId'),
    reportData: take(64, 'reportData'),
  };
}

const QE_BUFFERS: Layout<QeReport> = [
  ['cpuSvn', 16],
  ['reserved1', 28],
  ['attributes', 16],
  ['mrEnclave', 32],
  ['reserved2', 32],
  ['mrSigner', 32],
  ['reserved3', 32],
  ['configId', 64],
  ['reserved4', 42],
  ['isvFamilyId', 16],
  ['reportData', 64],
];

/** Encodes a QE report to its 384 bytes; `base` is its absolute offset (for error messages). */
export function encodeQeReport(report: QeReport, base = 0): Buffer {
  const [cpuSvn, reserved1, attributes, mrEnclave, reserved2, mrSigner, reserved3, configId, reserved4, family, data] =
    writeFields(report, QE_BUFFERS, 'qeReport', base);
  const u16 = (value: number, name: string): Buffer => {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
      throw new QuoteFormatError(`qeReport.${name}`, base, `must be a u16, got ${value}`);
    }
    const out = Buffer.alloc(2);
    out.writeUInt16LE(value);
    return out;
  };
  const misc = Buffer.alloc(4);
  misc.writeUInt32LE(report.miscSelect >>> 0);
  const out = Buffer.concat([
    cpuSvn,
    misc,
    reserved1,
    attributes,
    mrEnclave,
    reserved2,
    mrSigner,
    reserved3,
    configId,
    u16(report.isvProdId, 'isvProdId'),
    u16(report.isvSvn, 'isvSvn'),
    u16(report.configSvn, 'configSvn'),
    reserved4,
    family,
    data,
  ]);
  if (out.length !== SGX_REPORT_BYTES) throw new QuoteFormatError('qeReport', base, `encoded ${out.length} bytes`);
  return out;
}
