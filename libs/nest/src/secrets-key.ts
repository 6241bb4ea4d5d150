import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { AppConfig } from '@secure-build/config';

/**
 * The key that seals webhook secrets: SECURE_BUILD_SECRETS_KEY when set (required with PostgreSQL),
 * otherwise, for the embedded single-process mode, a random key kept in `<dataDir>/secrets.key` (0600).
 */
export async function loadSecretsKey(config: AppConfig): Promise<Buffer> {
  if (config.secretsKey) return config.secretsKey;
  const file = join(config.dataDir, 'secrets.key');
  try {
    const key = Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
    if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte hex key`);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const key = randomBytes(32);
    await writeFile(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  }
}
