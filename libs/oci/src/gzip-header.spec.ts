import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { GzipHeaderNormalizer } from './gzip-header';
import { OciError } from './oci-error';

async function normalize(chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), new GzipHeaderNormalizer(), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) out.push(chunk);
  });
  return Buffer.concat(out);
}

describe(GzipHeaderNormalizer.name, () => {
  it('zeroes MTIME and pins OS to Unix even when the header is split across chunks', async () => {
    const original = gzipSync(Buffer.from('payload '.repeat(100)));
    const foreign = Buffer.from(original);
    foreign.writeUInt32LE(1700000000, 4); // a compressor that stamps the time
    foreign[9] = 19; // macOS zlib OS code
    const chunks = [foreign.subarray(0, 3), foreign.subarray(3, 6), foreign.subarray(6, 11), foreign.subarray(11)];

    const result = await normalize(chunks);

    expect(result.readUInt32LE(4)).toBe(0);
    expect(result[9]).toBe(3);
    expect(result.subarray(10)).toEqual(original.subarray(10));
    expect(gunzipSync(result).toString()).toBe('payload '.repeat(100));
  });

  it('refuses gzip members with optional header fields such as FNAME', async () => {
    const withName = Buffer.from(gzipSync(Buffer.from('x')));
    withName[3] = 0x08;
    await expect(normalize([withName])).rejects.toBeInstanceOf(OciError);
    await expect(normalize([withName])).rejects.toThrow(/gzip header byte 3/);
  });

  it('refuses a stream that is not gzip', async () => {
    await expect(normalize([Buffer.from('plain text, not gzip')])).rejects.toThrow(/gzip header byte 0/);
  });
});
