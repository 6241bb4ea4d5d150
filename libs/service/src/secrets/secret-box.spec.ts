import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { SecretBox } from './secret-box';

describe(SecretBox.name, () => {
  const box = new SecretBox(randomBytes(32));

  it('round-trips and never stores the plaintext', () => {
    const sealed = box.seal('It is a secret to everybody', 'webhook:wallet');
    expect(sealed).toMatch(/^v1\./);
    expect(sealed).not.toContain('secret');
    expect(box.open(sealed, 'webhook:wallet')).toBe('It is a secret to everybody');
    expect(box.seal('x', 'p')).not.toBe(box.seal('x', 'p'));
  });

  it('refuses another purpose, another key, tampering and unknown formats', () => {
    const sealed = box.seal('s3cret', 'webhook:wallet');
    expect(() => box.open(sealed, 'webhook:other')).toThrow(/cannot be opened/);
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'webhook:wallet')).toThrow(/cannot be opened/);
    const parts = sealed.split('.');
    const flipped = Buffer.from(parts[3], 'base64url');
    flipped[0] ^= 1;
    expect(() => box.open([...parts.slice(0, 3), flipped.toString('base64url')].join('.'), 'webhook:wallet')).toThrow(
      /cannot be opened/,
    );
    expect(() => box.open('v2.a.b.c', 'webhook:wallet')).toThrow(/unknown format/);
    expect(() => new SecretBox(randomBytes(16))).toThrow(/32 bytes/);
  });
});
