import { describe, expect, it } from 'vitest';

import { derOctetString, derOid, derSequence } from '../der/der';
import { SIMULATED_PLATFORM } from '../simulator/platform';
import { SIMULATOR_PCK_CERT_PEM } from '../simulator/test-pki';
import { parseTdxQuote } from '../tdx/quote-parser';
import { hasTdxTestdata, readTdxTestdata, warnIfTdxTestdataMissing } from '../testing/testdata.util';
import { parseCertificate, sgxExtensionOf } from './certificates';
import { decodeSgxExtension, encodeSgxExtension, SGX_EXTENSION_OID } from './sgx-extension';

warnIfTdxTestdataMissing('SGX extension of the real PCK certificate');

describe('SGX PCK extension', () => {
  it.skipIf(!hasTdxTestdata)('decodes the real Intel PCK certificate of tdx_quote', () => {
    const pem = parseTdxQuote(readTdxTestdata('tdx_quote')).signatureData.certificationData.pckCertChain
      .certificatesPem[0];
    const ext = sgxExtensionOf(parseCertificate(pem));
    expect(ext.fmspc.toString('hex')).toBe('b0c06f000000');
    expect(ext.pceId.toString('hex')).toBe('0000');
    expect(ext.tcb.pceSvn).toBe(11);
    expect(ext.tcb.sgxTcbComponents).toEqual([3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(ext.tcb.cpuSvn.toString('hex')).toBe('03030202040100050000000000000000');
    expect(ext.sgxType).toBe(1);
    expect(ext.ppid).toHaveLength(16);
    expect(ext.configuration).toEqual({ dynamicPlatform: true, cachedKeys: true, smtEnabled: true });
  });

  it('round-trips the simulated platform through encode/decode', () => {
    expect(decodeSgxExtension(encodeSgxExtension(SIMULATED_PLATFORM))).toEqual(SIMULATED_PLATFORM);
  });

  it('is carried by the committed simulator PCK certificate', () => {
    expect(sgxExtensionOf(parseCertificate(SIMULATOR_PCK_CERT_PEM))).toEqual(SIMULATED_PLATFORM);
  });

  it('rejects an extension without FMSPC', () => {
    const entry = (suffix: string, value: Buffer) => derSequence(derOid(`${SGX_EXTENSION_OID}.${suffix}`), value);
    const full = encodeSgxExtension(SIMULATED_PLATFORM);
    const withoutFmspc = derSequence(entry('1', derOctetString(SIMULATED_PLATFORM.ppid)));
    expect(() => decodeSgxExtension(withoutFmspc)).toThrow(/missing/);
    expect(() => decodeSgxExtension(Buffer.concat([full, Buffer.from([0])]))).toThrow(/trailing bytes/);
  });

  it('rejects a wrongly sized FMSPC', () => {
    const bad = encodeSgxExtension({ ...SIMULATED_PLATFORM, fmspc: Buffer.alloc(5) });
    expect(() => decodeSgxExtension(bad)).toThrow(/FMSPC: expected 6 bytes, got 5/);
  });
});
