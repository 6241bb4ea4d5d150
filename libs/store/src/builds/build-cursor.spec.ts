import { describe, expect, it } from 'vitest';

import { isDomainError } from '@secure-build/common';

import { decodeBuildCursor, encodeBuildCursor } from './build-cursor';

describe('build cursor', () => {
  const cursor = { createdAt: new Date('2024-05-06T07:08:09.123Z'), id: '0b9e7c1e-2f5d-4c8e-9d7a-1f2e3d4c5b6a' };

  it('round-trips through opaque base64url', () => {
    const text = encodeBuildCursor(cursor);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeBuildCursor(text)).toEqual(cursor);
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'a+b/c='],
    ['not JSON', Buffer.from('nope').toString('base64url')],
    ['JSON null', Buffer.from('null').toString('base64url')],
    ['bad id', Buffer.from(JSON.stringify({ t: cursor.createdAt.toISOString(), i: 'x' })).toString('base64url')],
    ['bad time', Buffer.from(JSON.stringify({ t: 'yesterday', i: cursor.id })).toString('base64url')],
    ['too long', 'a'.repeat(600)],
  ])('rejects %s with INVALID_CURSOR', (_label, text) => {
    let error: unknown;
    try {
      decodeBuildCursor(text);
    } catch (caught) {
      error = caught;
    }
    expect(isDomainError(error, 'INVALID_CURSOR')).toBe(true);
  });
});
