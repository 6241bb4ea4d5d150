import { parseCertificate, sgxExtensionOf, verifyChainSignatures, type ParsedCertificate } from '../pck/certificates';
import { isRevoked } from '../pck/crl';
import type { SgxPckExtension } from '../pck/sgx-extension';
import type { TdxQuote } from '../tdx/quote.types';
import type { CollateralCrls } from './collateral-checks';
import { findTrustAnchor, type TrustAnchor } from './trust-anchors';

/** The verified-shape PCK chain of a quote (leaf, Platform/Processor CA, root) and its SGX extension. */
export interface PckEvidence {
  readonly chain: ParsedCertificate[];
  readonly extension: SgxPckExtension;
}

const commonName = (cert: ParsedCertificate): string => /^CN=(.*)$/m.exec(cert.x509.subject)?.[1] ?? '';

/** Check `pck.chain`: three certificates with Intel-style names, signed link by link, leaf has the SGX extension. */
export function checkPckChain(quote: TdxQuote): PckEvidence {
  const pems = quote.signatureData.certificationData.pckCertChain.certificatesPem;
  if (pems.length !== 3) throw new Error(`PCK chain has ${pems.length} certificates, expected 3`);
  const chain = pems.map((pem, i) => {
    try {
      return parseCertificate(pem);
    } catch (error) {
      throw new Error(`PCK chain certificate ${i} does not parse: ${(error as Error).message}`);
    }
  });
  if (!commonName(chain[0]).includes('SGX PCK Certificate')) {
    throw new Error(`leaf CN "${commonName(chain[0])}" is not an SGX PCK Certificate`);
  }
  if (!/SGX PCK (Platform|Processor) CA/.test(commonName(chain[1]))) {
    throw new Error(`intermediate CN "${commonName(chain[1])}" is not an SGX PCK Platform/Processor CA`);
  }
  verifyChainSignatures(chain);
  return { chain, extension: sgxExtensionOf(chain[0]) };
}

/** Check `pck.trust-anchor`: the chain's root is one of the pinned anchors. */
export function checkTrustAnchor(
  pck: PckEvidence,
  anchors: readonly TrustAnchor[],
): { anchor: TrustAnchor; root: ParsedCertificate } {
  const root = pck.chain[pck.chain.length - 1];
  const anchor = findTrustAnchor(anchors, root.fingerprintSha256);
  if (!anchor) {
    const pinned = anchors.map((a) => a.name).join(', ') || 'none';
    throw new Error(`root "${commonName(root)}" (sha256 ${root.fingerprintSha256}) is not pinned (pinned: ${pinned})`);
  }
  return { anchor, root };
}

/** Check `pck.revocation`: neither the PCK leaf (PCK CRL) nor its CA (root CRL) is revoked. */
export function checkPckNotRevoked(pck: PckEvidence, crls: CollateralCrls): void {
  if (isRevoked(crls.pck, pck.chain[0]))
    throw new Error(`PCK certificate ${pck.chain[0].x509.serialNumber} is revoked`);
  if (isRevoked(crls.root, pck.chain[1])) throw new Error(`PCK CA ${pck.chain[1].x509.serialNumber} is revoked`);
}
