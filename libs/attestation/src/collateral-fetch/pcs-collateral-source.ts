import { parseTdQeIdentity, parseTdxTcbInfo } from '../collateral/collateral.schema';
import type { TdxCollateral } from '../collateral/collateral.types';
import { AttestationInputError } from '../errors';
import { parseCrl } from '../pck/crl';
import { splitPemCertificates } from '../pck/pem';
import { CollateralFetchError, type CollateralSource, type PckCa } from './collateral-source';
import { rawJsonMember } from './raw-json';

/** Intel's Provisioning Certification Service (PCS); a PCCS serves the same v4 paths. */
export const INTEL_PCS_BASE_URL = 'https://api.trustedservices.intel.com';

/** Intel SGX Root CA CRL (DER). */
export const INTEL_ROOT_CA_CRL_URL = 'https://certificates.trustedservices.intel.com/IntelSGXRootCA.der';

// Intel PCS v4 wire format (api.trustedservices.intel.com/documents/...): paths and header names are
// defined by Intel; do not change them without checking the PCS/PCCS API specification.
const TCB_INFO_PATH = '/tdx/certification/v4/tcb';
const QE_IDENTITY_PATH = '/tdx/certification/v4/qe/identity';
const PCK_CRL_PATH = '/sgx/certification/v4/pckcrl';
const TCB_INFO_CHAIN_HEADERS = ['TCB-Info-Issuer-Chain', 'SGX-TCB-Info-Issuer-Chain'];
const QE_IDENTITY_CHAIN_HEADERS = ['SGX-Enclave-Identity-Issuer-Chain'];
const PCK_CRL_CHAIN_HEADERS = ['SGX-PCK-CRL-Issuer-Chain'];

/** Responses above this size are refused (real ones are a few KiB; a Processor CA CRL stays far below). */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 10_000;

/** Options of `createPcsCollateralSource`. */
export interface PcsCollateralSourceOptions {
  /** Intel PCS (INTEL_PCS_BASE_URL) or a PCCS, e.g. `https://pccs.internal:8081`. */
  readonly baseUrl: string;
  /** Where the root CA CRL (DER) is; defaults to Intel's. */
  readonly rootCrlUrl?: string;
  /** Injected fetch (tests, proxies); defaults to Node's global fetch. */
  readonly fetch?: typeof fetch;
  /** Per-request timeout covering headers and body; default 10 s. */
  readonly timeoutMs?: number;
}

interface Fetched {
  readonly body: Buffer;
  readonly headers: Headers;
}

function httpUrl(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AttestationInputError(`${what} is not a URL: '${value}'`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new AttestationInputError(`${what} must be http(s), got '${url.protocol}'`);
  }
  return url;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The issuer chain from the first present header: URL-decoded PEM, at least issuer + root. */
function issuerChain(fetched: Fetched, names: readonly string[], what: string, url: string): string {
  const name = names.find((candidate) => fetched.headers.get(candidate) !== null);
  if (name === undefined) throw new CollateralFetchError(`${what}: response has no ${names[0]} header`, { url });
  let pem: string;
  try {
    pem = decodeURIComponent(fetched.headers.get(name) ?? '');
  } catch {
    throw new CollateralFetchError(`${what}: ${name} header is not URL-encoded PEM`, { url });
  }
  const split = splitPemCertificates(pem);
  if (split.strayIndex !== undefined || split.certificates.length < 2) {
    throw new CollateralFetchError(`${what}: ${name} header is not a PEM certificate chain`, { url });
  }
  return pem;
}

/** `{"<member>": {...}, "signature": "<hex>"}` → the member's exact served text and the signature. */
function signedJson(fetched: Fetched, member: string, what: string, url: string): { json: string; signature: string } {
  const text = fetched.body.toString('utf8');
  try {
    const json = rawJsonMember(text, member);
    const signature = (JSON.parse(text) as { signature?: unknown }).signature;
    if (typeof signature !== 'string' || !/^[0-9a-fA-F]{128}$/.test(signature)) {
      throw new Error('"signature" is not 64 bytes of hex');
    }
    return { json, signature };
  } catch (error) {
    throw new CollateralFetchError(`${what}: body is not PCS JSON: ${errorMessage(error)}`, { url }, error);
  }
}

/** A CRL served as DER (PCS with encoding=der), PEM, or hex text (some PCCS versions) → lower-case hex DER. */
function crlHex(fetched: Fetched, what: string, url: string): string {
  const body = fetched.body;
  let der: Buffer;
  if (body[0] === 0x30) {
    der = body;
  } else {
    const text = body.toString('latin1').trim();
    const pem = /^-----BEGIN X509 CRL-----([A-Za-z0-9+/=\s]+)-----END X509 CRL-----$/.exec(text);
    if (pem) der = Buffer.from(pem[1].replace(/\s+/g, ''), 'base64');
    else if (/^(?:[0-9a-fA-F]{2})+$/.test(text)) der = Buffer.from(text, 'hex');
    else throw new CollateralFetchError(`${what}: body is neither DER, PEM nor hex`, { url });
  }
  try {
    parseCrl(der);
  } catch (error) {
    throw new CollateralFetchError(`${what}: body is not an X.509 CRL: ${errorMessage(error)}`, { url }, error);
  }
  return der.toString('hex');
}

/**
 * A CollateralSource backed by Intel PCS v4 or a PCCS: tcbInfo (TDX), TD QE identity, PCK CRL and
 * root CA CRL, fetched concurrently and assembled into the TdxCollateral shape. Checks HTTP status,
 * headers, formats and that the tcbInfo describes the requested FMSPC; signatures and validity are
 * the verifier's job (verifyTdxQuote), so a hostile PCCS can at worst make verification fail.
 */
export function createPcsCollateralSource(options: PcsCollateralSourceOptions): CollateralSource {
  const base = httpUrl(options.baseUrl, 'baseUrl');
  if (base.search || base.hash) throw new AttestationInputError('baseUrl must not have a query or fragment');
  const baseHref = base.href.replace(/\/+$/, '');
  const rootCrlUrl = httpUrl(options.rootCrlUrl ?? INTEL_ROOT_CA_CRL_URL, 'rootCrlUrl').href;
  const fetchFn = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new AttestationInputError('timeoutMs must be > 0');

  async function get(url: string, what: string): Promise<Fetched> {
    const signal = AbortSignal.timeout(timeoutMs);
    const failed = (error: unknown): CollateralFetchError =>
      signal.aborted
        ? new CollateralFetchError(`${what}: no response from ${url} within ${timeoutMs} ms`, { url }, error)
        : new CollateralFetchError(`${what}: GET ${url} failed: ${errorMessage(error)}`, { url }, error);
    let response: Response;
    try {
      response = await fetchFn(url, { signal, redirect: 'follow' });
    } catch (error) {
      throw failed(error);
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      const intel = [response.headers.get('Error-Code'), response.headers.get('Error-Message')].filter(Boolean);
      const requestId = response.headers.get('Request-ID');
      throw new CollateralFetchError(
        `${what}: HTTP ${response.status} from ${url}${intel.length ? ` (${intel.join(': ')})` : ''}` +
          `${requestId ? ` [Request-ID ${requestId}]` : ''}`,
        { url, status: response.status },
      );
    }
    let body: Buffer;
    try {
      body = Buffer.from(await response.arrayBuffer());
    } catch (error) {
      throw failed(error);
    }
    if (body.length === 0) throw new CollateralFetchError(`${what}: empty body from ${url}`, { url });
    if (body.length > MAX_RESPONSE_BYTES) {
      throw new CollateralFetchError(`${what}: ${body.length}-byte body exceeds ${MAX_RESPONSE_BYTES}`, { url });
    }
    return { body, headers: response.headers };
  }

  return {
    async fetch(fmspc: string, ca: PckCa): Promise<TdxCollateral> {
      if (typeof fmspc !== 'string' || !/^[0-9a-fA-F]{12}$/.test(fmspc)) {
        throw new AttestationInputError(`fmspc must be 12 hex digits (6 bytes), got '${String(fmspc)}'`);
      }
      if (ca !== 'platform' && ca !== 'processor') {
        throw new AttestationInputError(`ca must be 'platform' or 'processor', got '${String(ca)}'`);
      }
      const urls = {
        tcb: `${baseHref}${TCB_INFO_PATH}?fmspc=${fmspc.toUpperCase()}`,
        qe: `${baseHref}${QE_IDENTITY_PATH}`,
        pckCrl: `${baseHref}${PCK_CRL_PATH}?ca=${ca}&encoding=der`,
        rootCrl: rootCrlUrl,
      };
      const [tcb, qe, pckCrl, rootCrl] = await Promise.all([
        get(urls.tcb, 'TCB info'),
        get(urls.qe, 'QE identity'),
        get(urls.pckCrl, 'PCK CRL'),
        get(urls.rootCrl, 'root CA CRL'),
      ]);

      const tcbInfo = signedJson(tcb, 'tcbInfo', 'TCB info', urls.tcb);
      try {
        const parsed = parseTdxTcbInfo(tcbInfo.json);
        if (parsed.fmspc.toUpperCase() !== fmspc.toUpperCase()) {
          throw new Error(`it describes FMSPC ${parsed.fmspc}, not ${fmspc.toUpperCase()}`);
        }
      } catch (error) {
        throw new CollateralFetchError(`TCB info: ${errorMessage(error)}`, { url: urls.tcb }, error);
      }
      const qeIdentity = signedJson(qe, 'enclaveIdentity', 'QE identity', urls.qe);
      try {
        parseTdQeIdentity(qeIdentity.json);
      } catch (error) {
        throw new CollateralFetchError(`QE identity: ${errorMessage(error)}`, { url: urls.qe }, error);
      }

      return {
        pck_crl_issuer_chain: issuerChain(pckCrl, PCK_CRL_CHAIN_HEADERS, 'PCK CRL', urls.pckCrl),
        root_ca_crl: crlHex(rootCrl, 'root CA CRL', urls.rootCrl),
        pck_crl: crlHex(pckCrl, 'PCK CRL', urls.pckCrl),
        tcb_info_issuer_chain: issuerChain(tcb, TCB_INFO_CHAIN_HEADERS, 'TCB info', urls.tcb),
        tcb_info: tcbInfo.json,
        tcb_info_signature: tcbInfo.signature,
        qe_identity_issuer_chain: issuerChain(qe, QE_IDENTITY_CHAIN_HEADERS, 'QE identity', urls.qe),
        qe_identity: qeIdentity.json,
        qe_identity_signature: qeIdentity.signature,
      };
    },
  };
}
