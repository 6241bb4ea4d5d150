import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { TdxCollateral } from '../collateral/collateral.types';

/** What the fake does for one route instead of serving the collateral faithfully. */
export interface FakePcsFault {
  readonly status?: number;
  readonly body?: string | Buffer;
  /** Header names to leave out (e.g. the issuer chain). */
  readonly omitHeaders?: readonly string[];
  /** Delay before answering (timeouts). */
  readonly delayMs?: number;
}

/** Routes of the fake, keyed like Intel's paths. */
export type FakePcsRoute = 'tcb' | 'qe' | 'pckcrl' | 'rootcrl';

/** A local Intel PCS v4 stand-in on 127.0.0.1 serving one collateral set in Intel's wire format. */
export interface FakePcs {
  readonly baseUrl: string;
  readonly rootCrlUrl: string;
  /** Request paths (with query) in arrival order. */
  readonly requests: string[];
  faults: Partial<Record<FakePcsRoute, FakePcsFault>>;
  close(): Promise<void>;
}

/**
 * Starts a fake PCS: `GET /tdx/certification/v4/tcb?fmspc=` answers `{"tcbInfo":<exact text>,"signature":…}`
 * with a URL-encoded `TCB-Info-Issuer-Chain`, `/tdx/certification/v4/qe/identity` the enclaveIdentity
 * likewise, `/sgx/certification/v4/pckcrl?ca=platform&encoding=der` DER with `SGX-PCK-CRL-Issuer-Chain`,
 * and `/IntelSGXRootCA.der` the root CRL — the real wire format, so a client that reads it right
 * reproduces `collateral` byte for byte. `fmspc` (upper-case hex) is the only FMSPC it knows.
 */
export async function startFakePcs(collateral: TdxCollateral, fmspc: string): Promise<FakePcs> {
  const requests: string[] = [];
  const pcs = { faults: {} as FakePcs['faults'] };
  const routes: Record<FakePcsRoute, () => { headers: Record<string, string>; body: Buffer }> = {
    tcb: () => ({
      headers: {
        'Content-Type': 'application/json',
        'TCB-Info-Issuer-Chain': encodeURIComponent(collateral.tcb_info_issuer_chain),
      },
      body: Buffer.from(`{"tcbInfo":${collateral.tcb_info},"signature":"${collateral.tcb_info_signature}"}`),
    }),
    qe: () => ({
      headers: {
        'Content-Type': 'application/json',
        'SGX-Enclave-Identity-Issuer-Chain': encodeURIComponent(collateral.qe_identity_issuer_chain),
      },
      body: Buffer.from(
        `{"enclaveIdentity":${collateral.qe_identity},"signature":"${collateral.qe_identity_signature}"}`,
      ),
    }),
    pckcrl: () => ({
      headers: {
        'Content-Type': 'application/pkix-crl',
        'SGX-PCK-CRL-Issuer-Chain': encodeURIComponent(collateral.pck_crl_issuer_chain),
      },
      body: Buffer.from(collateral.pck_crl, 'hex'),
    }),
    rootcrl: () => ({
      headers: { 'Content-Type': 'application/pkix-crl' },
      body: Buffer.from(collateral.root_ca_crl, 'hex'),
    }),
  };

  const routeOf = (url: URL): FakePcsRoute | undefined => {
    if (url.pathname === '/tdx/certification/v4/tcb' && url.searchParams.get('fmspc') === fmspc) return 'tcb';
    if (url.pathname === '/tdx/certification/v4/qe/identity') return 'qe';
    if (url.pathname === '/sgx/certification/v4/pckcrl' && url.searchParams.get('ca') === 'platform') return 'pckcrl';
    if (url.pathname === '/IntelSGXRootCA.der') return 'rootcrl';
    return undefined;
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push(req.url ?? '');
    const route = routeOf(new URL(req.url ?? '/', 'http://127.0.0.1'));
    if (!route) {
      res.writeHead(404, { 'Error-Code': 'NotFound', 'Error-Message': 'no such resource' }).end();
      return;
    }
    const fault = pcs.faults[route] ?? {};
    const answer = (): void => {
      if (res.destroyed) return;
      const normal = routes[route]();
      const headers = Object.fromEntries(
        Object.entries(normal.headers).filter(([name]) => !fault.omitHeaders?.includes(name)),
      );
      res.writeHead(fault.status ?? 200, headers).end(fault.body ?? normal.body);
    };
    if (fault.delayMs) setTimeout(answer, fault.delayMs);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return Object.assign(pcs, {
    baseUrl,
    rootCrlUrl: `${baseUrl}/IntelSGXRootCA.der`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
