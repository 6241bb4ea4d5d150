import { Command } from 'commander';

import {
  decodeQuoteFile,
  describeTdxQuote,
  INTEL_TRUST_ANCHOR,
  parseTdxQuote,
  SIMULATOR_TRUST_ANCHOR,
  verifyTdxQuote,
  type TdxCollateral,
  type TdxVerificationReport,
} from '@secure-build/attestation';

import { parseAsOf, readInputFile } from '../input';
import { CliError, ExitCode } from '../exit-codes';

// The DCAP collateral fields (Intel PCS / PCCS JSON as stored by dcap-qvl); all are strings.
const COLLATERAL_FIELDS = [
  'pck_crl_issuer_chain',
  'root_ca_crl',
  'pck_crl',
  'tcb_info_issuer_chain',
  'tcb_info',
  'tcb_info_signature',
  'qe_identity_issuer_chain',
  'qe_identity',
  'qe_identity_signature',
] as const;

interface VerifyQuoteOptions {
  collateral: string;
  asOf?: string;
  json?: boolean;
  allowSimulated?: boolean;
}

/** `secure-build attestation ...`: tools for TEE evidence. */
export function attestationCommand(): Command {
  const attestation = new Command('attestation').description('inspect and verify TEE evidence');
  attestation
    .command('inspect')
    .exitOverride() // usage errors reach runCli (exit 2) instead of commander's process.exit(1)
    .description('parse a TDX quote (binary or hex) and print its header, TD report and certification data')
    .argument('<quote-file>', 'quote file, binary or hex text')
    .option('--json', 'print JSON')
    .action(async (file: string, options: { json?: boolean }) => {
      const raw = await readInputFile(file, 'quote');
      const description = describeTdxQuote(parseTdxQuote(decodeQuoteFile(raw)));
      process.stdout.write(options.json ? `${JSON.stringify(description, null, 2)}\n` : `${formatTree(description)}\n`);
    });
  attestation
    .command('verify')
    .exitOverride()
    .description(
      'verify a TDX quote against DCAP collateral and the pinned Intel root (no policy: every TCB status ' +
        'except Revoked verifies and is reported; exit 0 verified, 1 failed, 2 bad input)',
    )
    .argument('<quote-file>', 'quote file, binary or hex text')
    .requiredOption('--collateral <file>', 'DCAP collateral JSON (Intel PCS/PCCS fields, as dcap-qvl stores them)')
    .option('--as-of <time>', 'RFC 3339 time at which certificates, CRLs and collateral must be valid (default: now)')
    .option('--json', 'print the report as JSON')
    .option('--allow-simulated', 'also pin the Secure Build simulator root (NOT INTEL; development only)')
    .action(async (file: string, options: VerifyQuoteOptions) => {
      const now = options.asOf === undefined ? new Date() : parseAsOf(options.asOf);
      const quote = decodeQuoteFile(await readInputFile(file, 'quote'));
      const collateral = parseCollateral(
        (await readInputFile(options.collateral, 'collateral')).toString('utf8'),
        options.collateral,
      );
      const trustAnchors = options.allowSimulated ? [INTEL_TRUST_ANCHOR, SIMULATOR_TRUST_ANCHOR] : [INTEL_TRUST_ANCHOR];
      const report = verifyTdxQuote({ quote, collateral, trustAnchors, now });
      process.stdout.write(
        options.json
          ? `${JSON.stringify({ verified: report.ok, asOf: now.toISOString(), ...report }, null, 2)}\n`
          : formatQuoteReport(report, now),
      );
      process.exitCode = report.ok ? ExitCode.Ok : ExitCode.Failed;
    });
  return attestation;
}

// Shape only: whether the contents verify is the verifier's call (a failed check, exit 1).
function parseCollateral(text: string, path: string): TdxCollateral {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CliError(`collateral ${path} is not JSON: ${(error as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CliError(`collateral ${path} is not a JSON object`);
  }
  const missing = COLLATERAL_FIELDS.filter((field) => typeof (json as Record<string, unknown>)[field] !== 'string');
  if (missing.length > 0) {
    throw new CliError(`collateral ${path} is not DCAP collateral: missing or non-string ${missing.join(', ')}`);
  }
  return json as TdxCollateral;
}

function formatQuoteReport(report: TdxVerificationReport, now: Date): string {
  const td = report.td?.td;
  const tee =
    report.tee === 'tdx'
      ? 'tdx (Intel SGX Root CA)'
      : report.tee === 'tdx-sim'
        ? 'tdx-sim (SIMULATOR, NOT INTEL: no hardware isolation)'
        : 'unknown (PCK chain not anchored)';
  const about = [
    `as of:        ${now.toISOString()}`,
    `tee:          ${tee}`,
    `TCB status:   ${report.tcbStatus ?? 'not evaluated'}`,
    `advisories:   ${report.advisoryIds?.length ? report.advisoryIds.join(', ') : 'none'}`,
  ];
  if (td) {
    const attributes = td.tdAttributes;
    about.push(
      `MRTD:         ${td.mrTd}`,
      `RTMR0:        ${td.rtmr0}`,
      `RTMR1:        ${td.rtmr1}`,
      `RTMR2:        ${td.rtmr2}`,
      `RTMR3:        ${td.rtmr3}`,
      `MRCONFIGID:   ${td.mrConfigId}`,
      `TD attributes: ${attributes.hex} (debug: ${attributes.debug ? 'YES' : 'no'}, ` +
        `SEPT_VE_DISABLE: ${attributes.septVeDisable ? 'yes' : 'no'})`,
      `REPORTDATA:   ${td.reportData}`,
    );
  }
  const lines = report.checks.map((c) => `${c.ok ? '✔' : '✘'} ${c.name}${c.detail ? `: ${c.detail}` : ''}`);
  const failed = report.checks.filter((c) => !c.ok).map((c) => c.name);
  const notUpToDate =
    report.ok && report.tcbStatus !== 'UpToDate'
      ? [`note: TCB status is ${report.tcbStatus}; a deployment policy decides whether that is acceptable`]
      : [];
  const verdict = report.ok ? 'VERIFIED' : `VERIFICATION FAILED: ${failed.join(', ')}`;
  return [...about, '', ...lines, '', ...notUpToDate, verdict, ''].join('\n');
}

function formatTree(value: unknown, indent = ''): string {
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) {
    return value.map((item) => `\n${indent}- ${formatTree(item, `${indent}  `).trimStart()}`).join('');
  }
  return Object.entries(value as Record<string, unknown>)
    .map(([key, item]) =>
      item !== null && typeof item === 'object'
        ? `${indent}${key}:\n${formatTree(item, `${indent}  `).replace(/^\n/, '')}`
        : `${indent}${key}: ${String(item)}`,
    )
    .join('\n');
}
