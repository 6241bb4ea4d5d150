import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Repository root (libs/attestation/src/testing → four levels up). */
const REPO_ROOT = resolve(__dirname, '../../../..');

/** Shared real-world test data, a sibling of the repository checkout. */
export const TDX_TESTDATA_DIR = resolve(REPO_ROOT, '../shared/testdata/tdx');

/** True when the real Intel quotes and collateral are available. */
export const hasTdxTestdata = existsSync(join(TDX_TESTDATA_DIR, 'tdx_quote'));

/** Reads one file of the shared TDX test data. */
export function readTdxTestdata(name: string): Buffer {
  return readFileSync(join(TDX_TESTDATA_DIR, name));
}

/** Prints why a suite that needs the real data is skipped. */
export function warnIfTdxTestdataMissing(suite: string): void {
  if (!hasTdxTestdata) console.warn(`[${suite}] SKIPPED: real TDX test data not found at ${TDX_TESTDATA_DIR}`);
}
