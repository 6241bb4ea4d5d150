import { existsSync } from 'node:fs';

import { Command } from 'commander';

import { establishBuilderIdentity, runIndependentRebuild } from '@secure-build/build';
import { secureBuildVersion } from '@secure-build/common';
import { selectEvidenceProvider, TeeKind } from '@secure-build/service';

import { CliError, ExitCode } from '../exit-codes';
import { readInputFile } from '../input';
import { createProgressRenderer } from '../output/terminal';
import { registryAccessFrom, RegistryFlags, withRegistryOptions } from '../registry/registry-options';
import { fetchBundle } from './service.commands';

interface RebuildOptions extends RegistryFlags {
  out: string;
  server?: string;
  allowLocalRepo?: boolean;
  insecureNoSandbox?: boolean;
  tee: string;
  quiet?: boolean;
  json?: boolean;
}

/** `secure-build rebuild`: an independent rebuild of a finished build, with a signed verdict. */
export function rebuildCommand(): Command {
  const command = new Command('rebuild')
    .description(
      'rebuild the commit a provenance bundle names, on this builder; compare digests and sign a rebuild attestation',
    )
    .argument('<build-id|bundle>', 'a provenance bundle file, or a build id (with --server)')
    .requiredOption(
      '--out <dir>',
      'output directory (must be empty): oci/, provenance.sigstore.json, rebuild.sigstore.json',
    )
    .option('--server <url>', 'fetch the bundle of this build id from a Secure Build API (token: SECURE_BUILD_TOKEN)')
    .option('--allow-local-repo', 'allow a local path or file:// repository (development and tests)')
    .option('--insecure-no-sandbox', 'DEVELOPMENT ONLY: build without bubblewrap isolation')
    .option('--tee <kind>', 'simulated, se-simulated or tdx', 'simulated')
    .option('--quiet', 'do not stream the build output')
    .option('--json', 'print the result as JSON on stdout');
  return withRegistryOptions(command).action(async (target: string, options: RebuildOptions) => {
    if (!['simulated', 'se-simulated', 'tdx'].includes(options.tee)) {
      throw new CliError(`--tee must be simulated, se-simulated or tdx, got '${options.tee}'`);
    }
    const bundle = await loadBundle(target, options.server);
    const registries = await registryAccessFrom(options);
    const selected = await selectEvidenceProvider(options.tee as TeeKind);
    const identity = await establishBuilderIdentity(selected.provider);
    const result = await runIndependentRebuild({
      originalBundle: bundle,
      outDir: options.out,
      identity,
      builderVersion: { 'secure-build': secureBuildVersion() },
      registries,
      allowLocalRepo: options.allowLocalRepo ?? false,
      sandbox: options.insecureNoSandbox ? 'insecure-no-sandbox' : 'bubblewrap',
      onEvent: createProgressRenderer(process.stderr, { quiet: options.quiet ?? false }),
    });
    if (options.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      const lines = [
        `original  ${result.original.manifestDigest} (${result.original.repository} @ ${result.original.commit})`,
        `rebuild   ${result.manifestDigest}`,
        result.reproduced
          ? 'REPRODUCED: the independent rebuild has the same digest'
          : 'DIFFERENT: the rebuild does not match',
        ...(result.differences ?? [])
          .slice(0, 50)
          .map((d) => `  differs: ${d.path} (${d.kind}${d.detail ? `: ${d.detail}` : ''})`),
        ...(!result.reproduced && result.differences === undefined
          ? ['  (the original image is not in a reachable registry: file differences cannot be listed)']
          : []),
        `attestation ${result.attestationPath}`,
        '',
      ];
      process.stdout.write(lines.join('\n'));
    }
    process.exitCode = result.reproduced ? ExitCode.Ok : ExitCode.Failed;
  });
}

async function loadBundle(target: string, server: string | undefined): Promise<Buffer> {
  if (server) return Buffer.from(await fetchBundle(server, target), 'utf8');
  if (!existsSync(target)) {
    throw new CliError(`'${target}' is not a bundle file; to rebuild a build by id, add --server <url>`);
  }
  return readInputFile(target, 'bundle');
}
