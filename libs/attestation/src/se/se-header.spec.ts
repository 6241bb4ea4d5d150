import { describe, expect, it } from 'vitest';

import { SeFormatError } from './se-errors';
import { describeBootHdrTags, parseSeHeader } from './se-header';
import { hasSeTestdata, readSeTestdata, warnIfSeTestdataMissing } from './se-testdata.util';

warnIfSeTestdataMissing('SE header from s390-tools');

describe.skipIf(!hasSeTestdata)('parseSeHeader on secure_guest.hdr', () => {
  const hdr = hasSeTestdata ? readSeTestdata('secure_guest.hdr') : Buffer.alloc(0);

  it('extracts PLD @224, ALD @288, TLD @352 and the tag from the last 16 bytes', () => {
    const tags = parseSeHeader(hdr);
    expect(hdr).toHaveLength(640);
    expect(tags.pld).toEqual(hdr.subarray(224, 288));
    expect(tags.ald).toEqual(hdr.subarray(288, 352));
    expect(tags.tld).toEqual(hdr.subarray(352, 416));
    expect(tags.pld.subarray(0, 8).toString('hex')).toBe('be94b5eab3c1b118');
    expect(describeBootHdrTags(tags).tag).toBe('92309d4589b9a85b427f8753171d1520');
  });

  it('rejects a bad magic, version, inconsistent size and truncation', () => {
    const cases: [Buffer, string, RegExp][] = [
      [Buffer.concat([Buffer.from('IBMSecEy'), hdr.subarray(8)]), 'magic', /IBMSecEx/],
      [withU32(hdr, 8, 0x200), 'version', /0x200/],
      [withU32(hdr, 12, 0x290), 'size', /does not match/],
      [hdr.subarray(0, 600), 'size', /truncated/],
      [hdr.subarray(0, 100), 'header', /truncated/],
    ];
    for (const [bytes, field, reason] of cases) {
      let error: unknown;
      try {
        parseSeHeader(bytes);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SeFormatError);
      expect((error as SeFormatError).field).toBe(field);
      expect((error as SeFormatError).message).toMatch(reason);
    }
  });
});

function withU32(bytes: Buffer, offset: number, value: number): Buffer {
  const copy = Buffer.from(bytes);
  copy.writeUInt32BE(value, offset);
  return copy;
}
