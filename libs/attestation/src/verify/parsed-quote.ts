import { createHash } from 'node:crypto';

import { parsedQuoteCache } from '../pck/verification-cache';
import { describeTdxQuote, type TdxQuoteDescription } from '../tdx/describe';
import { parseTdxQuote } from '../tdx/quote-parser';
import type { TdxQuote } from '../tdx/quote.types';

/**
 * Parses a quote, cached by the SHA-256 of its exact bytes. The cached parse is made from a private
 * copy, so a caller that later changes its buffer in place cannot change what a hit returns.
 */
export function parseTdxQuoteCached(bytes: Buffer): TdxQuote {
  const key = createHash('sha256').update(bytes).digest('hex');
  return parsedQuoteCache.getOrCompute(key, () => parseTdxQuote(Buffer.from(bytes))) as TdxQuote;
}

const descriptions = new WeakMap<TdxQuote, TdxQuoteDescription>();

/** The quote's description, computed once per parsed quote and frozen (callers share it). */
export function describeTdxQuoteCached(quote: TdxQuote): TdxQuoteDescription {
  let description = descriptions.get(quote);
  if (description === undefined) {
    description = deepFreeze(describeTdxQuote(quote));
    descriptions.set(quote, description);
  }
  return description;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
