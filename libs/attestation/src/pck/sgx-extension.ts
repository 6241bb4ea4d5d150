import {
  decodeOid,
  decodeSmallUnsigned,
  derBoolean,
  derOctetString,
  derOid,
  derSequence,
  derUnsigned,
  DerTag,
  expectDerTag,
  readDerChildren,
  readDerNode,
  type DerNode,
} from '../der/der';
import { DerFormatError } from '../errors';

/** OID of the Intel SGX extension carried by PCK certificates. */
export const SGX_EXTENSION_OID = '1.2.840.113741.1.13.1';

const oid = (suffix: string): string => `${SGX_EXTENSION_OID}.${suffix}`;

/** Platform facts Intel (or the simulator) certifies in a PCK certificate. */
export interface SgxPckExtension {
  readonly ppid: Buffer;
  readonly tcb: {
    /** The 16 SGX TCB component SVNs (`.2.1`–`.2.16`). */
    readonly sgxTcbComponents: readonly number[];
    readonly pceSvn: number;
    readonly cpuSvn: Buffer;
  };
  readonly pceId: Buffer;
  readonly fmspc: Buffer;
  /** 0 standard, 1 scalable, 2 scalable with integrity. */
  readonly sgxType: number;
  readonly platformInstanceId?: Buffer;
  readonly configuration?: { dynamicPlatform: boolean; cachedKeys: boolean; smtEnabled: boolean };
}

function entries(content: Buffer, what: string): Map<string, DerNode> {
  const map = new Map<string, DerNode>();
  for (const item of readDerChildren(content)) {
    const [id, value, ...rest] = readDerChildren(expectDerTag(item, DerTag.Sequence, what).content);
    if (!id || !value || rest.length > 0) throw new DerFormatError(`${what}: entry is not {OID, value}`, item.offset);
    const key = decodeOid(expectDerTag(id, DerTag.Oid, what).content);
    if (map.has(key)) throw new DerFormatError(`${what}: duplicate ${key}`, item.offset);
    map.set(key, value);
  }
  return map;
}

function required(map: Map<string, DerNode>, key: string): DerNode {
  const node = map.get(key);
  if (!node) throw new DerFormatError(`SGX extension: missing ${key}`, 0);
  return node;
}

function octets(node: DerNode, key: string, length: number): Buffer {
  const value = expectDerTag(node, DerTag.OctetString, key).content;
  if (value.length !== length) throw new DerFormatError(`${key}: expected ${length} bytes, got ${value.length}`, 0);
  return Buffer.from(value);
}

const integer = (node: DerNode, key: string): number =>
  decodeSmallUnsigned(expectDerTag(node, DerTag.Integer, key).content);

const flag = (map: Map<string, DerNode>, key: string): boolean => {
  const node = map.get(key);
  return node !== undefined && expectDerTag(node, DerTag.Boolean, key).content[0] !== 0;
};

/** Decodes the value (the OCTET STRING content) of the SGX extension. */
export function decodeSgxExtension(extnValue: Buffer): SgxPckExtension {
  const root = readDerNode(extnValue);
  if (root.raw.length !== extnValue.length) throw new DerFormatError('trailing bytes after SGX extension', 0);
  const top = entries(expectDerTag(root, DerTag.Sequence, 'SGX extension').content, 'SGX extension');
  const tcb = entries(expectDerTag(required(top, oid('2')), DerTag.Sequence, 'TCB').content, 'TCB');
  const components = Array.from({ length: 16 }, (_, i) => integer(required(tcb, oid(`2.${i + 1}`)), `svn ${i + 1}`));
  const instance = top.get(oid('6'));
  const config = top.get(oid('7'));
  const configMap = config ? entries(expectDerTag(config, DerTag.Sequence, 'configuration').content, 'cfg') : null;
  return {
    ppid: octets(required(top, oid('1')), 'PPID', 16),
    tcb: {
      sgxTcbComponents: components,
      pceSvn: integer(required(tcb, oid('2.17')), 'PCESVN'),
      cpuSvn: octets(required(tcb, oid('2.18')), 'CPUSVN', 16),
    },
    pceId: octets(required(top, oid('3')), 'PCE-ID', 2),
    fmspc: octets(required(top, oid('4')), 'FMSPC', 6),
    sgxType: decodeSmallUnsigned(expectDerTag(required(top, oid('5')), DerTag.Enumerated, 'SGX type').content),
    platformInstanceId: instance ? octets(instance, 'PlatformInstanceID', 16) : undefined,
    configuration: configMap
      ? {
          dynamicPlatform: flag(configMap, oid('7.1')),
          cachedKeys: flag(configMap, oid('7.2')),
          smtEnabled: flag(configMap, oid('7.3')),
        }
      : undefined,
  };
}

/** Encodes the SGX extension value in Intel's field order (used to build the simulator PCK). */
export function encodeSgxExtension(ext: SgxPckExtension): Buffer {
  const entry = (suffix: string, value: Buffer): Buffer => derSequence(derOid(oid(suffix)), value);
  const tcb = derSequence(
    ...ext.tcb.sgxTcbComponents.map((svn, i) => entry(`2.${i + 1}`, derUnsigned(svn))),
    entry('2.17', derUnsigned(ext.tcb.pceSvn)),
    entry('2.18', derOctetString(ext.tcb.cpuSvn)),
  );
  const parts = [
    entry('1', derOctetString(ext.ppid)),
    entry('2', tcb),
    entry('3', derOctetString(ext.pceId)),
    entry('4', derOctetString(ext.fmspc)),
    entry('5', derUnsigned(ext.sgxType, DerTag.Enumerated)),
  ];
  if (ext.platformInstanceId) parts.push(entry('6', derOctetString(ext.platformInstanceId)));
  if (ext.configuration) {
    const c = ext.configuration;
    parts.push(
      entry(
        '7',
        derSequence(
          entry('7.1', derBoolean(c.dynamicPlatform)),
          entry('7.2', derBoolean(c.cachedKeys)),
          entry('7.3', derBoolean(c.smtEnabled)),
        ),
      ),
    );
  }
  return derSequence(...parts);
}
