import { writeFile } from 'node:fs/promises';

import { Command } from 'commander';

import { renderDeploySnippet, verifyImage, parsePinnedImage, ImageVerification } from '@secure-build/deploy';
import { parsePolicy } from '@secure-build/provenance';

import { ApiClient } from '../client/api-client';
import { parseAsOf, readInputText } from '../input';
import { CliError, ExitCode } from '../exit-codes';
import { formatReport } from '../output/print-report';
import { registryAccessFrom, RegistryFlags, withRegistryOptions } from '../registry/registry-options';

interface GateOptions extends RegistryFlags {
  policy: string;
  server?: string;
  asOf?: string;
  json?: boolean;
}

/** `secure-build verify-image`: the deployer gate on image@digest. */
export function verifyImageCommand(): Command {
  const command = new Command('verify-image')
    .description('find the provenance attached to image@sha256:… and verify it fully against a policy')
    .argument('<image>', 'registry/repo@sha256:<64 hex> (a tag alone is refused: it can move)')
    .requiredOption('--policy <file>', 'policy file (YAML or JSON)')
    .option('--server <url>', 'read the provenance from this Secure Build API instead of the registry')
    .option('--as-of <time>', 'RFC 3339 time at which evidence and collateral must be valid (default: the build time)')
    .option('--json', 'print the result as JSON');
  return withRegistryOptions(command).action(async (image: string, options: GateOptions) => {
    const result = await runGate(image, options);
    process.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : formatImageVerification(result));
    process.exitCode = result.verified ? ExitCode.Ok : ExitCode.Failed;
  });
}

interface SnippetOptions extends GateOptions {
  target: string;
  tee?: string;
  name?: string;
  out?: string;
}

/** `secure-build deploy-snippet`: a digest-pinned HPVS workload or CoCo Pod, for a verified image only. */
export function deploySnippetCommand(): Command {
  const command = new Command('deploy-snippet')
    .description('verify image@digest, then print an IBM HPVS workload section or a CoCo Pod spec pinned by digest')
    .argument('<image>', 'registry/repo@sha256:<64 hex>')
    .requiredOption('--target <target>', 'hpvs (IBM Hyper Protect contract workload) or coco (Kubernetes Pod)')
    .requiredOption('--policy <file>', 'policy the image must pass first (YAML or JSON)')
    .option('--tee <tee>', 'coco only: tdx (kata-qemu-tdx, default) or se (kata-qemu-se)')
    .option('--name <name>', 'workload name (DNS-1123 label); default from the repository')
    .option('--server <url>', 'read the provenance from this Secure Build API instead of the registry')
    .option('--as-of <time>', 'RFC 3339 time at which evidence and collateral must be valid')
    .option('--out <file>', 'write the snippet to this file instead of stdout')
    .option('--json', 'print the verification as JSON on stderr when it fails');
  return withRegistryOptions(command).action(async (image: string, options: SnippetOptions) => {
    if (options.target !== 'hpvs' && options.target !== 'coco') {
      throw new CliError(`--target must be hpvs or coco, got '${options.target}'`);
    }
    const result = await runGate(image, options);
    if (!result.verified || !result.accepted) {
      process.stderr.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : formatImageVerification(result));
      throw new CliError(`${result.reference}: not verified; no deployment snippet is emitted`, ExitCode.Failed);
    }
    const summary = result.accepted.report.summary;
    const snippet = renderDeploySnippet({
      image: result.reference,
      target: options.target,
      ...(options.tee ? { tee: options.tee as 'tdx' | 'se' } : {}),
      ...(options.name ? { name: options.name } : {}),
      provenance: {
        bundleDigest: result.accepted.bundleDigest,
        ...(summary.repository ? { sourceRepository: summary.repository } : {}),
        ...(summary.commit ? { commit: summary.commit } : {}),
        ...(buildIdOf(summary.invocationId) ? { buildId: buildIdOf(summary.invocationId) } : {}),
      },
    });
    if (options.out) await writeFile(options.out, snippet.text, { mode: 0o644 });
    else process.stdout.write(snippet.text);
  });
}

async function runGate(image: string, options: GateOptions): Promise<ImageVerification> {
  const ref = parsePinnedImage(image);
  const asOf = options.asOf === undefined ? undefined : parseAsOf(options.asOf);
  const policy = parsePolicy(await readInputText(options.policy, 'policy'), options.policy);
  if (options.server) {
    const found = await new ApiClient(options.server).json<{ attestations: { buildId: string; bundle: unknown }[] }>(
      'GET',
      `/v1/attestations/${encodeURIComponent(ref.digest as string)}`,
    );
    const bundles = found.attestations.map((a) => ({ id: a.buildId, bytes: Buffer.from(JSON.stringify(a.bundle)) }));
    return verifyImage({ image, policy, asOf, source: { kind: 'bundles', origin: options.server, bundles } });
  }
  const registries = await registryAccessFrom(options);
  return verifyImage({ image, policy, asOf, source: { kind: 'registry', client: registries.client(ref.registry) } });
}

/** The build id at the end of a Secure Build invocation URL (`…/v1/builds/<id>`), or the urn:uuid. */
function buildIdOf(invocationId: string | undefined): string | undefined {
  if (!invocationId) return undefined;
  const match =
    /\/v1\/builds\/([A-Za-z0-9._:-]{1,128})$/.exec(invocationId) ?? /^urn:uuid:([0-9a-f-]{36})$/.exec(invocationId);
  return match?.[1];
}

function formatImageVerification(result: ImageVerification): string {
  const lines = [`image ${result.reference}`];
  if (result.attestations.length === 0) lines.push('✘ no provenance bundle is attached to this digest');
  for (const attestation of result.attestations) {
    lines.push(
      '',
      `bundle ${attestation.id} (${attestation.bundleDigest})`,
      formatReport(attestation.report).trimEnd(),
    );
  }
  for (const skip of result.skipped) lines.push(`skipped ${skip.id}: ${skip.reason}`);
  lines.push('', result.verified ? `VERIFIED: ${result.reference}` : `NOT VERIFIED: ${result.reference}`);
  return `${lines.join('\n')}\n`;
}
