import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

import { DomainError } from '@secure-build/common';

import type { CollateralSource, PckCa } from '../collateral-fetch/collateral-source';
import { AttestationInputError } from '../errors';
import { TDX_QUOTE_V4_MEDIA_TYPE, type EvidenceProvider, type TdxQuoteEvidence } from '../evidence/evidence.types';
import { parseCertificate, sgxExtensionOf } from '../pck/certificates';
import { TDX_QUOTE_MAX_BYTES } from '../tdx/constants';
import { parseTdxQuote } from '../tdx/quote-parser';
import type { TdxQuote } from '../tdx/quote.types';
import { nodeTsmFilesystem, type TsmFilesystem } from './tsm-filesystem';

/** Where Linux (>= 6.7) exposes configfs-tsm report requests. */
export const CONFIGFS_TSM_REPORT_ROOT = '/sys/kernel/config/tsm/report';

/** The kernel refuses to produce an outblob larger than this (EFBIG). */
export const TSM_OUTBLOB_MAX_BYTES = 32 * 1024;

/** `provider` content of the TDX guest driver (attestation.md §2). */
const TDX_PROVIDER = 'tdx_guest\n';
const INBLOB_BYTES = 64;
/** tdx_guest polls GetQuote for up to 30 s, so by default the kernel gives up before we do. */
const DEFAULT_QUOTE_TIMEOUT_MS = 40_000;

/** Raised when configfs-tsm is absent (`TDX_UNAVAILABLE`) or a report request fails (`TSM_REPORT`). */
export class ConfigfsTsmError extends DomainError<'TDX_UNAVAILABLE' | 'TSM_REPORT'> {
  constructor(
    code: 'TDX_UNAVAILABLE' | 'TSM_REPORT',
    message: string,
    details?: Record<string, unknown>,
    cause?: unknown,
  ) {
    super(code, message, { details, cause });
  }
}

/** Options of `createConfigfsTsmProvider`. */
export interface ConfigfsTsmProviderOptions {
  /** configfs-tsm report directory; default CONFIGFS_TSM_REPORT_ROOT. */
  readonly root?: string;
  /** How long `collect` waits for the quote, including waiting behind an earlier request; default 40 s. */
  readonly quoteTimeoutMs?: number;
  /** Where DCAP collateral for the quote's FMSPC comes from (Intel PCS or a PCCS). */
  readonly collateral: CollateralSource;
  /** Filesystem seam (tests emulate configfs); default node:fs. */
  readonly fs?: TsmFilesystem;
}

const missingRootMessage = (root: string): string =>
  `TDX not available: ${root} missing — is this a TDX guest with Linux ≥ 6.7 and configfs mounted?`;

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Creates a fresh request directory `<root>/secure-build-<random>` (mkdtemp-like). */
async function createRequestDir(fs: TsmFilesystem, root: string): Promise<string> {
  for (let attempt = 0; ; attempt += 1) {
    const dir = join(root, `secure-build-${process.pid}-${randomBytes(8).toString('hex')}`);
    try {
      await fs.mkdir(dir);
      return dir;
    } catch (error) {
      if (errnoOf(error) === 'EEXIST' && attempt < 3) continue;
      if (errnoOf(error) === 'ENOENT') {
        throw new ConfigfsTsmError('TDX_UNAVAILABLE', missingRootMessage(root), { root }, error);
      }
      throw new ConfigfsTsmError('TSM_REPORT', `cannot create ${dir}: ${(error as Error).message}`, { dir }, error);
    }
  }
}

async function checkProvider(fs: TsmFilesystem, dir: string): Promise<void> {
  const provider = (await fs.readFile(join(dir, 'provider'), 64)).toString('latin1');
  if (provider !== TDX_PROVIDER) {
    throw new ConfigfsTsmError(
      'TSM_REPORT',
      `configfs-tsm provider is '${provider.trim()}', not 'tdx_guest': this guest is not a TDX guest`,
      { provider: provider.trim() },
    );
  }
}

async function readGeneration(fs: TsmFilesystem, dir: string): Promise<number> {
  const text = (await fs.readFile(join(dir, 'generation'), 32)).toString('latin1');
  if (!/^\d{1,15}\n?$/.test(text)) throw new ConfigfsTsmError('TSM_REPORT', `unreadable generation '${text.trim()}'`);
  return Number(text.trim());
}

/** Maps kernel errno values of tdx_guest to messages an operator can act on. */
function describeFailure(error: unknown, dir: string): ConfigfsTsmError {
  if (error instanceof ConfigfsTsmError) return error;
  const code = errnoOf(error);
  const reason =
    code === 'EBUSY'
      ? 'the TDX guest driver is busy: an earlier quote request (possibly timed out) is still in flight'
      : code === 'EIO'
        ? 'the GetQuote hypercall failed (EIO): is the host quote generation service (QGS) running?'
        : code === 'EFBIG'
          ? `the quote exceeds ${TSM_OUTBLOB_MAX_BYTES} bytes (EFBIG)`
          : code === 'EINVAL'
            ? 'the kernel refused the request (EINVAL)'
            : ((error as Error)?.message ?? String(error));
  return new ConfigfsTsmError(
    'TSM_REPORT',
    `configfs-tsm quote request failed: ${reason}`,
    { dir, errno: code },
    error,
  );
}

/**
 * One configfs-tsm report request (attestation.md §2): mkdir → provider is tdx_guest → write exactly 64
 * bytes to inblob → read outblob → generation advanced by exactly one (else another writer raced us
 * and the quote may carry its REPORTDATA) → rmdir, on every path, never recursively.
 */
async function requestQuote(fs: TsmFilesystem, root: string, reportData: Buffer): Promise<Buffer> {
  const dir = await createRequestDir(fs, root);
  let outblob: Buffer | undefined;
  let failure: ConfigfsTsmError | undefined;
  try {
    outblob = await requestIn(fs, dir, reportData);
  } catch (error) {
    failure = describeFailure(error, dir);
  }
  try {
    await fs.rmdir(dir);
  } catch (error) {
    // A leaked request directory only costs kernel memory; the first failure is the one to report.
    failure ??= new ConfigfsTsmError('TSM_REPORT', `cannot remove ${dir}: ${(error as Error).message}`, { dir }, error);
  }
  if (failure !== undefined || outblob === undefined) throw failure;
  return outblob;
}

async function requestIn(fs: TsmFilesystem, dir: string, reportData: Buffer): Promise<Buffer> {
  await checkProvider(fs, dir);
  const before = await readGeneration(fs, dir);
  await fs.writeFile(join(dir, 'inblob'), reportData);
  const outblob = await fs.readFile(join(dir, 'outblob'), TSM_OUTBLOB_MAX_BYTES);
  if (outblob.length > TSM_OUTBLOB_MAX_BYTES) {
    throw new ConfigfsTsmError('TSM_REPORT', `outblob exceeds ${TSM_OUTBLOB_MAX_BYTES} bytes`, { dir });
  }
  if (outblob.length === 0) throw new ConfigfsTsmError('TSM_REPORT', 'outblob is empty', { dir });
  const after = await readGeneration(fs, dir);
  if (after !== before + 1) {
    throw new ConfigfsTsmError(
      'TSM_REPORT',
      `generation went from ${before} to ${after} (expected ${before + 1}): another writer used ${dir} during the request; quote discarded`,
      { dir, before, after },
    );
  }
  return outblob;
}

/** Parses the outblob as a v4 DCAP quote; bigger blobs are CBOR Web Tokens (DICE), not quotes. */
function parseOutblob(outblob: Buffer): TdxQuote {
  if (outblob.length > TDX_QUOTE_MAX_BYTES) {
    throw new ConfigfsTsmError(
      'TSM_REPORT',
      `outblob of ${outblob.length} bytes is not a DCAP quote (over ${TDX_QUOTE_MAX_BYTES} bytes: a CBOR Web Token?)`,
    );
  }
  const quote = parseTdxQuote(outblob);
  if (quote.header.version !== 4) {
    throw new ConfigfsTsmError(
      'TSM_REPORT',
      `the TDX quote is version ${quote.header.version}; evidence format tdx-quote-v4 needs a v4 quote`,
    );
  }
  return quote;
}

/** FMSPC (upper-case hex) and issuing CA from the quote's PCK certificate chain. */
function platformOf(quote: TdxQuote): { fmspc: string; ca: PckCa } {
  const pems = quote.signatureData.certificationData.pckCertChain.certificatesPem;
  try {
    const fmspc = sgxExtensionOf(parseCertificate(pems[0])).fmspc.toString('hex').toUpperCase();
    const ca: PckCa = pems[1] && /Processor/.test(parseCertificate(pems[1]).x509.subject) ? 'processor' : 'platform';
    return { fmspc, ca };
  } catch (error) {
    throw new ConfigfsTsmError(
      'TSM_REPORT',
      `cannot read the FMSPC of the quote's PCK certificate: ${(error as Error).message}`,
    );
  }
}

/**
 * EvidenceProvider for a TDX guest through configfs-tsm: each `collect` is one report request whose
 * REPORTDATA is the 64-byte binding, followed by a collateral fetch for the quote's FMSPC. Requests
 * are serialized (tdx_guest serves one at a time). Verification is the caller's job.
 */
export function createConfigfsTsmProvider(options: ConfigfsTsmProviderOptions): EvidenceProvider<TdxQuoteEvidence> {
  const root = options.root ?? CONFIGFS_TSM_REPORT_ROOT;
  const fs = options.fs ?? nodeTsmFilesystem;
  const timeoutMs = options.quoteTimeoutMs ?? DEFAULT_QUOTE_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new AttestationInputError('quoteTimeoutMs must be > 0');
  // Tail of the request queue; a timed-out request keeps its place until the kernel answers.
  let queue: Promise<unknown> = Promise.resolve();

  return {
    teeType: 'tdx',
    async collect(reportData: Buffer): Promise<TdxQuoteEvidence> {
      if (!Buffer.isBuffer(reportData) || reportData.length !== INBLOB_BYTES) {
        const size = Buffer.isBuffer(reportData) ? `${reportData.length} bytes` : typeof reportData;
        throw new AttestationInputError(`reportData must be exactly 64 bytes (tdx_guest inblob), got ${size}`);
      }
      const request = queue.then(() => requestQuote(fs, root, Buffer.from(reportData)));
      queue = request.catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new ConfigfsTsmError('TSM_REPORT', `no TDX quote within ${timeoutMs} ms (configfs-tsm under ${root})`, {
                root,
              }),
            ),
          timeoutMs,
        );
      });
      let outblob: Buffer;
      try {
        outblob = await Promise.race([request, timeout]);
      } finally {
        clearTimeout(timer);
      }
      const quote = parseOutblob(outblob);
      const { fmspc, ca } = platformOf(quote);
      const collateral = await options.collateral.fetch(fmspc, ca);
      return {
        format: 'tdx-quote-v4',
        mediaType: TDX_QUOTE_V4_MEDIA_TYPE,
        quote: outblob,
        collateral,
        simulated: false,
      };
    },
  };
}

/**
 * Worker-start check that configfs-tsm exists and its provider is tdx_guest (creates and removes one
 * request directory; generates no quote). Throws ConfigfsTsmError `TDX_UNAVAILABLE` with a hint.
 */
export async function probeConfigfsTsm(
  root: string = CONFIGFS_TSM_REPORT_ROOT,
  options: { readonly fs?: TsmFilesystem } = {},
): Promise<void> {
  const fs = options.fs ?? nodeTsmFilesystem;
  if (!(await fs.isDirectory(root))) throw new ConfigfsTsmError('TDX_UNAVAILABLE', missingRootMessage(root), { root });
  const dir = await createRequestDir(fs, root);
  try {
    await checkProvider(fs, dir);
  } catch (error) {
    if (error instanceof ConfigfsTsmError) {
      throw new ConfigfsTsmError('TDX_UNAVAILABLE', `TDX not available: ${error.message}`, error.details, error);
    }
    throw new ConfigfsTsmError('TDX_UNAVAILABLE', `TDX not available: ${(error as Error).message}`, { root }, error);
  } finally {
    await fs.rmdir(dir);
  }
}
