import { bundleToJSON, SerializedBundle } from '@sigstore/bundle';
import { DSSEBundleBuilder, Signature, Signer } from '@sigstore/sign';

import { canonicalJson } from '@secure-build/common';

import { IN_TOTO_PAYLOAD_TYPE } from './constants';
import { BuilderSigningKey } from './signing-key';
import { ProvenanceStatement } from './statement.types';

/** A signed provenance: the Sigstore bundle JSON and the exact statement bytes it carries. */
export interface SignedProvenance {
  bundle: SerializedBundle;
  payload: Buffer;
}

/**
 * Signs the statement as a DSSE envelope inside a Sigstore bundle v0.3 with a `publicKey.hint`.
 * No online witnesses (Rekor, TSA): bundles must verify offline, and repository names must not
 * leak to a public log.
 */
export function signProvenance(statement: ProvenanceStatement, key: BuilderSigningKey): Promise<SignedProvenance> {
  return signStatement(statement, key);
}

/** Signs any in-toto statement the same way (e.g. the SE attestation service's results). */
export async function signStatement(statement: object, key: BuilderSigningKey): Promise<SignedProvenance> {
  const payload = Buffer.from(canonicalJson(statement), 'utf8');
  const builder = new DSSEBundleBuilder({ signer: new TeeKeySigner(key), witnesses: [] });
  const bundle = await builder.create({ data: payload, type: IN_TOTO_PAYLOAD_TYPE });
  return { bundle: bundleToJSON(bundle), payload };
}

// The builder hands us the DSSE pre-authentication encoding, which is exactly what must be signed.
class TeeKeySigner implements Signer {
  constructor(private readonly key: BuilderSigningKey) {}

  async sign(pae: Buffer): Promise<Signature> {
    return {
      signature: this.key.sign(pae),
      key: { $case: 'publicKey', publicKey: this.key.publicKeyPem, hint: this.key.spkiSha256 },
    };
  }
}
