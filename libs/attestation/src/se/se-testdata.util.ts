import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Repository root (libs/attestation/src/se → four levels up). */
const REPO_ROOT = resolve(__dirname, '../../../..');

/** Shared IBM SE test data from s390-tools, a sibling of the repository checkout. */
export const SE_TESTDATA_DIR = resolve(REPO_ROOT, '../shared/testdata/se');

/** True when the s390-tools SE test assets are available. */
export const hasSeTestdata = existsSync(join(SE_TESTDATA_DIR, 'measurement-vectors.json'));

/** Reads one file of the shared SE test data. */
export function readSeTestdata(name: string): Buffer {
  return readFileSync(join(SE_TESTDATA_DIR, name));
}

/** Prints why a suite that needs the shared data is skipped. */
export function warnIfSeTestdataMissing(suite: string): void {
  if (!hasSeTestdata) console.warn(`[${suite}] SKIPPED: IBM SE test data not found at ${SE_TESTDATA_DIR}`);
}
