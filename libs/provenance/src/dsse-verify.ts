import type { KeyObject } from 'node:crypto';

import type { Bundle } from '@sigstore/bundle';
import { toSignedEntity, Verifier } from '@sigstore/verify';

/**
 * Verifies a public-key Sigstore bundle's DSSE signature offline with exactly one allowed key (no
 * transparency log, no timestamps: our bundles carry neither). Throws when it does not verify.
 */
export function verifyDsseWithKey(bundle: Bundle, hint: string, key: KeyObject): void {
  const verifier = new Verifier(
    {
      certificateAuthorities: [],
      timestampAuthorities: [],
      tlogs: [],
      ctlogs: [],
      publicKey: (requested: string) => {
        if (requested !== hint) throw new Error(`unknown key hint ${requested}`);
        return { publicKey: key, validFor: () => true };
      },
    },
    { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 },
  );
  verifier.verify(toSignedEntity(bundle));
}
