import { DerFormatError } from '../errors';

/** One DER TLV: `raw` is header plus content, `content` the value bytes. */
export interface DerNode {
  readonly tag: number;
  readonly offset: number;
  readonly raw: Buffer;
  readonly content: Buffer;
}

/** DER universal tags used by the Intel SGX extension and X.509 structures. */
export const DerTag = {
  Boolean: 0x01,
  Integer: 0x02,
  OctetString: 0x04,
  Oid: 0x06,
  Enumerated: 0x0a,
  Sequence: 0x30,
} as const;

/** Reads one TLV at `offset` (definite lengths only, single-byte tags only). */
export function readDerNode(buf: Buffer, offset = 0): DerNode {
  if (offset + 2 > buf.length) throw new DerFormatError('truncated header', offset);
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerFormatError('multi-byte tags are not supported', offset);
  let length = buf[offset + 1];
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4)
      throw new DerFormatError(`unsupported length encoding 0x${length.toString(16)}`, offset);
    if (offset + 2 + count > buf.length) throw new DerFormatError('truncated length', offset);
    length = 0;
    for (let i = 0; i < count; i += 1) length = length * 256 + buf[offset + 2 + i];
    if (length < 0x80) throw new DerFormatError('non-minimal length', offset);
    header += count;
  }
  const end = offset + header + length;
  if (end > buf.length) throw new DerFormatError(`content of ${length} bytes overruns the buffer`, offset);
  return { tag, offset, raw: buf.subarray(offset, end), content: buf.subarray(offset + header, end) };
}

/** Reads consecutive TLVs that must exactly fill `content` (the children of a constructed node). */
export function readDerChildren(content: Buffer): DerNode[] {
  const nodes: DerNode[] = [];
  let offset = 0;
  while (offset < content.length) {
    const node = readDerNode(content, offset);
    nodes.push(node);
    offset += node.raw.length;
  }
  return nodes;
}

/** Reads a TLV and requires its tag. */
export function expectDerTag(node: DerNode, tag: number, what: string): DerNode {
  if (node.tag !== tag) {
    throw new DerFormatError(
      `${what}: expected tag 0x${tag.toString(16)}, got 0x${node.tag.toString(16)}`,
      node.offset,
    );
  }
  return node;
}

/** Decodes an OBJECT IDENTIFIER value to dotted notation. */
export function decodeOid(content: Buffer): string {
  if (content.length === 0) throw new DerFormatError('empty OID', 0);
  const arcs: number[] = [];
  let value = 0;
  for (let i = 0; i < content.length; i += 1) {
    value = value * 128 + (content[i] & 0x7f);
    if ((content[i] & 0x80) === 0) {
      arcs.push(value);
      value = 0;
    } else if (i === content.length - 1) {
      throw new DerFormatError('unterminated OID arc', i);
    }
  }
  const first = arcs[0] < 80 ? Math.floor(arcs[0] / 40) : 2;
  return [first, arcs[0] - first * 40, ...arcs.slice(1)].join('.');
}

/** Decodes a non-negative INTEGER/ENUMERATED value that fits in a safe integer. */
export function decodeSmallUnsigned(content: Buffer): number {
  if (content.length === 0 || content.length > 6) throw new DerFormatError(`integer of ${content.length} bytes`, 0);
  if (content[0] & 0x80) throw new DerFormatError('negative integer', 0);
  return content.reduce((acc, byte) => acc * 256 + byte, 0);
}

/** Encodes one TLV. */
export function derTlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let length: Buffer;
  if (n < 0x80) length = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    length = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

/** Encodes a SEQUENCE of already encoded items. */
export function derSequence(...items: Buffer[]): Buffer {
  return derTlv(DerTag.Sequence, Buffer.concat(items));
}

/** Encodes an OBJECT IDENTIFIER from dotted notation. */
export function derOid(oid: string): Buffer {
  const arcs = oid.split('.').map((arc) => Number.parseInt(arc, 10));
  const out: number[] = [];
  for (const arc of [arcs[0] * 40 + arcs[1], ...arcs.slice(2)]) {
    const chunk = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return derTlv(DerTag.Oid, Buffer.from(out));
}

/** Encodes a non-negative INTEGER (or ENUMERATED with `tag`). */
export function derUnsigned(value: number, tag: number = DerTag.Integer): Buffer {
  const bytes: number[] = [];
  for (let v = value; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  if (bytes.length === 0 || bytes[0] & 0x80) bytes.unshift(0);
  return derTlv(tag, Buffer.from(bytes));
}

/** Encodes an OCTET STRING. */
export function derOctetString(value: Buffer): Buffer {
  return derTlv(DerTag.OctetString, value);
}

/** Encodes a BOOLEAN (DER: 0xff for true). */
export function derBoolean(value: boolean): Buffer {
  return derTlv(DerTag.Boolean, Buffer.from([value ? 0xff : 0x00]));
}
