import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import type { TdxCollateral } from '../collateral/collateral.types';
import { createSimulatedTdxQuoter } from '../simulator/simulated-quoter';
import { SIMULATOR_TRUST_ANCHOR } from '../simulator/test-pki';
import { failedChecks, flipByte, V4 } from '../testing/evidence.util';
import { verifyTdxQuote } from '../verify/verify-tdx-quote';
import {
  BoundedCache,
  clearVerificationCaches,
  setSignatureMemo,
  cacheKey,
  verificationCacheSizes,
  verifySignatureOnce,
} from './verification-cache';

describe(BoundedCache.name, () => {
  it('evicts the least recently used entry beyond its bound', () => {
    const cache = new BoundedCache<number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now most recent
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('a'), cache.get('c'), cache.size]).toEqual([1, 3, 2]);
  });

  it('never confuses long keys that share length, head and tail', () => {
    const cache = new BoundedCache<string>(4);
    const a = `${'h'.repeat(200)}A${'t'.repeat(200)}`;
    const b = `${'h'.repeat(200)}B${'t'.repeat(200)}`;
    cache.set(a, 'a');
    expect(cache.get(b)).toBeUndefined();
    cache.set(b, 'b');
    expect([cache.get(a), cache.get(b)]).toEqual([undefined, 'b']);
    expect(cache.get(`${b}`.slice(0))).toBe('b');
  });

  it('does not cache errors', () => {
    const cache = new BoundedCache<number>(2);
    const compute = vi.fn(() => {
      throw new Error('bad input');
    });
    expect(() => cache.getOrCompute('k', compute)).toThrow('bad input');
    expect(() => cache.getOrCompute('k', compute)).toThrow('bad input');
    expect(compute).toHaveBeenCalledTimes(2);
  });
});

describe(verifySignatureOnce.name, () => {
  afterEach(() => {
    setSignatureMemo(true);
    clearVerificationCaches();
  });

  it('remembers successes only, keyed by every input', () => {
    const ok = vi.fn(() => true);
    const bad = vi.fn(() => false);
    const data = Buffer.from('data');
    const sig = Buffer.from('sig');
    expect(verifySignatureOnce('p', 'key', data, sig, ok)).toBe(true);
    expect(verifySignatureOnce('p', 'key', data, sig, ok)).toBe(true);
    expect(ok).toHaveBeenCalledTimes(1);
    expect(verifySignatureOnce('p', 'key', Buffer.from('datb'), sig, bad)).toBe(false);
    expect(verifySignatureOnce('p', 'key', Buffer.from('datb'), sig, bad)).toBe(false);
    expect(verifySignatureOnce('p', 'other', data, sig, bad)).toBe(false);
    expect(verifySignatureOnce('q', 'key', data, sig, bad)).toBe(false);
    expect(bad).toHaveBeenCalledTimes(4);
  });

  it('treats the same signature over other bytes as a miss, for Buffers and strings alike', () => {
    const ok = vi.fn(() => true);
    const bad = vi.fn(() => false);
    const sig = Buffer.from('sig');
    expect(verifySignatureOnce('p', 'key', '{"tcbInfo":1}', sig, ok)).toBe(true);
    expect(verifySignatureOnce('p', 'key', '{"tcbInfo":2}', sig, bad)).toBe(false);
    expect(verifySignatureOnce('p', 'key', Buffer.from('{"tcbInfo":1}'), sig, bad)).toBe(false);
    expect(verifySignatureOnce('p', 'key', '{"tcbInfo":1}', sig, bad)).toBe(true);
    expect([ok.mock.calls.length, bad.mock.calls.length]).toEqual([1, 2]);
  });

  it('keeps its own copy of the signed bytes', () => {
    const ok = vi.fn(() => true);
    const bad = vi.fn(() => false);
    const data = Buffer.from('signed bytes');
    verifySignatureOnce('p', Buffer.from([1, 2]), data, Buffer.from('sig'), ok);
    data[0] ^= 1; // the caller reuses its buffer for other content
    expect(verifySignatureOnce('p', Buffer.from([1, 2]), data, Buffer.from('sig'), bad)).toBe(false);
  });

  it('always verifies when the memo is off', () => {
    setSignatureMemo(false);
    const ok = vi.fn(() => true);
    verifySignatureOnce('p', 'key', Buffer.alloc(1), Buffer.alloc(1), ok);
    verifySignatureOnce('p', 'key', Buffer.alloc(1), Buffer.alloc(1), ok);
    expect(ok).toHaveBeenCalledTimes(2);
  });

  it('length-prefixes key parts so boundaries cannot shift', () => {
    expect(cacheKey('ab', 'c')).not.toBe(cacheKey('a', 'bc'));
  });
});

describe('verifyTdxQuote with warm caches (no verdict is cached)', () => {
  const NOW = new Date('2025-06-25T00:00:00Z');
  let quote: Buffer;
  let collateral: TdxCollateral;
  const verify = (q: Buffer, now = NOW) =>
    verifyTdxQuote({ quote: q, collateral, trustAnchors: [SIMULATOR_TRUST_ANCHOR], now });

  beforeAll(async () => {
    ({ quote, collateral } = await createSimulatedTdxQuoter({ now: () => NOW }).quote(Buffer.alloc(64, 3)));
  });

  it('gives the same report cold and warm, and still fails time, anchor and tampering checks when warm', () => {
    clearVerificationCaches();
    const cold = verify(quote);
    expect(cold.ok).toBe(true);
    expect(verificationCacheSizes().signatures).toBeGreaterThan(0);
    expect(verify(quote)).toEqual(cold);
    expect(failedChecks(verify(quote, new Date('2025-09-01T00:00:00Z')))).toEqual(
      expect.arrayContaining(['collateral.tcb-info.validity', 'collateral.qe-identity.validity']),
    );
    expect(verifyTdxQuote({ quote, collateral, trustAnchors: [], now: NOW }).ok).toBe(false);
    expect(failedChecks(verify(flipByte(quote, V4.rtmr0)))).toEqual(['quote.signature']);
    expect(failedChecks(verify(flipByte(quote, V4.quoteSignature + 5)))).toEqual(['quote.signature']);
    expect(failedChecks(verify(flipByte(quote, V4.qeReportSignature + 5)))).toEqual(['qe.report.signature']);
    const badTcbSignature = { ...collateral, tcb_info_signature: `00${collateral.tcb_info_signature.slice(2)}` };
    const report = verifyTdxQuote({
      quote,
      collateral: badTcbSignature,
      trustAnchors: [SIMULATOR_TRUST_ANCHOR],
      now: NOW,
    });
    expect(failedChecks(report)).toEqual(['collateral.tcb-info.signature']);
    expect(verify(quote)).toEqual(cold);
  });

  it('is not fooled when the caller changes its quote buffer in place after a verification', () => {
    clearVerificationCaches();
    const mine = Buffer.from(quote);
    expect(verify(mine).ok).toBe(true);
    mine[V4.rtmr0] ^= 1;
    expect(failedChecks(verify(mine))).toEqual(['quote.signature']);
    mine[V4.rtmr0] ^= 1;
    expect(verify(mine).ok).toBe(true);
    expect(verify(quote).td?.td.rtmr0).toBe(verify(mine).td?.td.rtmr0);
  });

  it('shares one frozen description between reports, so no caller can alter what the next one sees', () => {
    const report = verify(quote);
    expect(Object.isFrozen(report.td)).toBe(true);
    expect(Object.isFrozen(report.td?.td)).toBe(true);
    expect(() => {
      (report.td!.td as { mrTd: string }).mrTd = 'ff';
    }).toThrow(TypeError);
  });
});
