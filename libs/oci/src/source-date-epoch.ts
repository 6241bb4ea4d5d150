import { OciError } from './oci-error';

// tar-stream encodes mtime with `| 0`, so anything past 2038-01-19 would wrap; refuse it instead.
const MAX_EPOCH = 2 ** 31 - 1;

/** Throws INVALID_INPUT unless `value` is an integer number of seconds usable as SOURCE_DATE_EPOCH. */
export function assertSourceDateEpoch(value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_EPOCH) {
    throw new OciError('INVALID_INPUT', `sourceDateEpoch must be an integer in [0, ${MAX_EPOCH}], got ${value}`, {
      details: { sourceDateEpoch: value },
    });
  }
}

/** SOURCE_DATE_EPOCH as RFC 3339 UTC without fractions, e.g. 1700000000 → `2023-11-14T22:13:20Z`. */
export function epochToRfc3339(sourceDateEpoch: number): string {
  assertSourceDateEpoch(sourceDateEpoch);
  return new Date(sourceDateEpoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
