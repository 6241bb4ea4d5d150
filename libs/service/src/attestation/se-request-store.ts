import type { SeRequestSecrets } from '@secure-build/attestation';
import type { Store } from '@secure-build/store';

import { SecretBox } from '../secrets/secret-box';

/** Where the SE attestation service keeps a request's secrets until the guest answers (taken once). */
export interface SeRequestStore {
  put(id: string, secrets: SeRequestSecrets, expires: Date): Promise<void>;
  take(id: string): Promise<{ secrets: SeRequestSecrets; expires: Date } | undefined>;
}

/** In-process store (CLI, single-process development). */
export class MemorySeRequestStore implements SeRequestStore {
  private readonly pending = new Map<string, { secrets: SeRequestSecrets; expires: Date }>();

  async put(id: string, secrets: SeRequestSecrets, expires: Date): Promise<void> {
    const now = Date.now();
    for (const [key, entry] of this.pending) if (entry.expires.getTime() < now) this.pending.delete(key);
    this.pending.set(id, { secrets, expires });
  }

  async take(id: string): Promise<{ secrets: SeRequestSecrets; expires: Date } | undefined> {
    const entry = this.pending.get(id);
    this.pending.delete(id);
    return entry;
  }
}

/** Database-backed store shared by every API instance; the secrets are sealed at rest. */
export class SealedSeRequestStore implements SeRequestStore {
  constructor(
    private readonly store: Store,
    private readonly box: SecretBox,
  ) {}

  async put(id: string, secrets: SeRequestSecrets, expires: Date): Promise<void> {
    const plain = JSON.stringify({
      arpk: secrets.arpk.toString('hex'),
      measurementKey: secrets.measurementKey.toString('hex'),
      nonce: secrets.nonce.toString('hex'),
    });
    await this.store.seRequests.purgeExpired(new Date());
    await this.store.seRequests.put(id, this.box.seal(plain, purpose(id)), expires);
  }

  async take(id: string): Promise<{ secrets: SeRequestSecrets; expires: Date } | undefined> {
    const row = await this.store.seRequests.take(id);
    if (!row) return undefined;
    const parsed = JSON.parse(this.box.open(row.secretsSealed, purpose(id))) as Record<
      'arpk' | 'measurementKey' | 'nonce',
      string
    >;
    return {
      secrets: {
        arpk: Buffer.from(parsed.arpk, 'hex'),
        measurementKey: Buffer.from(parsed.measurementKey, 'hex'),
        nonce: Buffer.from(parsed.nonce, 'hex'),
      },
      expires: row.expiresAt,
    };
  }
}

function purpose(id: string): string {
  return `se-request:${id}`;
}
