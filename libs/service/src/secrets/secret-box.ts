import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

import { ServiceError } from '../service.error';

const VERSION = 'v1';

/**
 * Seals small secrets (webhook secrets) at rest with AES-256-GCM under a key from configuration.
 * Sealed form: `v1.<iv>.<tag>.<ciphertext>` (base64url); the AAD binds a secret to its purpose, so a
 * sealed value copied into another row or field does not open.
 */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('secrets key must be 32 bytes (AES-256)');
  }

  seal(plaintext: string, purpose: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(purpose, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), ciphertext]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  open(sealed: string, purpose: string): string {
    const [version, iv, tag, ciphertext] = sealed.split('.');
    if (version !== VERSION || !iv || !tag || ciphertext === undefined) {
      throw new ServiceError('NOT_READY', 'a stored secret has an unknown format; it cannot be opened');
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(purpose, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new ServiceError(
        'NOT_READY',
        'a stored secret cannot be opened with the configured secrets key (was the key changed?)',
      );
    }
  }
}
