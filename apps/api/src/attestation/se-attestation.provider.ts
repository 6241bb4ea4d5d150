import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';

import { parseSeHeader } from '@secure-build/attestation';
import type { AppConfig } from '@secure-build/config';
import { loadSigningKey } from '@secure-build/provenance';
import { SealedSeRequestStore, SeAttestationService, SecretBox } from '@secure-build/service';
import type { Store } from '@secure-build/store';

/** Builds the SE attestation service from the configured host keys, image header and verifier key files. */
export async function createSeAttestationService(
  config: AppConfig,
  store: Store,
  secrets: SecretBox,
): Promise<SeAttestationService | null> {
  const se = config.seService;
  if (!se) return null;
  const hostKeys = await Promise.all(
    se.hostKeyFiles.map(async (file) => createPublicKey(await readFile(file, 'utf8'))),
  );
  return new SeAttestationService({
    hostKeys,
    header: parseSeHeader(await readFile(se.headerFile)),
    signingKey: loadSigningKey(await readFile(se.verifierKeyFile, 'utf8')),
    verifierId: `${config.publicUrl}/v1/attestation/se`,
    simulated: false,
    // Pending requests live in the database, so any API instance can take the guest's answer.
    requests: new SealedSeRequestStore(store, secrets),
  });
}
