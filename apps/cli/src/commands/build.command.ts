import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { Command } from 'commander';

import { establishBuilderIdentity, runSecureBuild } from '@secure-build/build';
import { selectEvidenceProvider, TeeKind } from '@secure-build/service';

import { CliError } from '../exit-codes';
import { registryAccessFrom, RegistryFlags, withRegistryOptions } from '../registry/registry-options';
import { createProgressRenderer } from '../output/terminal';
import { secureBuildVersion } from '@secure-build/common';

interface BuildOptions extends RegistryFlags {
  push?: string;
  local?: boolean;
  repo: string;
  commit: string;
  ref?: string;
  recipe?: string;
  imageName?: string;
  out: string;
  allowLocalRepo?: boolean;
  rebuild: boolean;
  insecureNoSandbox?: boolean;
  perBuildEvidence?: boolean;
  tee: string;
  quiet?: boolean;
  json?: boolean;
}

/** `secure-build build --local`: runs the whole trusted pipeline in this process. */
export function buildCommand(): Command {
  const command = new Command('build')
    .description('build a pinned commit into an OCI image layout with signed, TEE-bound provenance')
    .option('--local', 'run the pipeline in this process (simulated TEE unless running inside one)')
    .requiredOption(
      '--repo <url|path>',
      'repository URL (https or ssh; a local path or file:// needs --allow-local-repo)',
    )
    .requiredOption('--commit <sha>', 'full commit SHA (40 or 64 hex)')
    .requiredOption('--out <dir>', 'output directory (must be empty): oci/, provenance.sigstore.json, build.log')
    .option('--recipe <path>', 'recipe path in the repository', 'securebuild.yaml')
    .option('--ref <ref>', 'the ref this commit was taken from, recorded in the provenance (e.g. refs/heads/main)')
    .option('--image-name <name>', 'image name recorded as the subject name and the layout ref')
    .option('--allow-local-repo', 'allow a local path or file:// repository (development and tests)')
    .option('--no-rebuild', 'skip the second build that checks reproducibility (recorded in the provenance)')
    .option(
      '--insecure-no-sandbox',
      'DEVELOPMENT ONLY: build without bubblewrap isolation (recorded in the provenance)',
    )
    .option(
      '--tee <kind>',
      'simulated (TDX simulator), se-simulated (IBM SE simulator), or tdx (inside a TDX guest)',
      'simulated',
    )
    .option('--per-build-evidence', "also take a quote whose REPORTDATA binds this build's statement")
    .option('--quiet', 'do not stream the build output')
    .option('--json', 'print the result as JSON on stdout')
    .option(
      '--push <host[:port]/repo[:tag]>',
      'push the image, then attach the signed bundle to it as an OCI artifact',
    );
  return withRegistryOptions(command).action(async (options: BuildOptions) => {
    if (!options.local) {
      throw new CliError(
        'build: only --local builds run in the CLI; pass --local (the build service comes with `secure-build submit`)',
      );
    }
    if (!['simulated', 'se-simulated', 'tdx'].includes(options.tee)) {
      throw new CliError(`--tee must be simulated, se-simulated or tdx, got '${options.tee}'`);
    }
    const registries = await registryAccessFrom(options);
    const selected = await selectEvidenceProvider(options.tee as TeeKind);
    const identity = await establishBuilderIdentity(selected.provider);
    const result = await runSecureBuild({
      repository: options.repo,
      commit: options.commit,
      ref: options.ref,
      recipePath: options.recipe,
      // A pushed image is named by its push target, so a later `rebuild` can find and diff it.
      imageName: options.imageName ?? options.push,
      outDir: options.out,
      allowLocalRepo: options.allowLocalRepo ?? false,
      rebuild: options.rebuild,
      sandbox: options.insecureNoSandbox ? 'insecure-no-sandbox' : 'bubblewrap',
      perBuildEvidence: options.perBuildEvidence ?? false,
      identity,
      registries,
      ...(options.push ? { push: options.push } : {}),
      builderVersion: { 'secure-build': secureBuildVersion() },
      onEvent: createProgressRenderer(process.stderr, { quiet: options.quiet ?? false }),
    });
    if (selected.seVerifierKeyPem) {
      // The local SE attestation service lives only for this run: publish its key for auditors.
      await writeFile(join(result.outDir, 'se-verifier.pub.pem'), selected.seVerifierKeyPem, { mode: 0o644 });
    }
    const summary = {
      outDir: result.outDir,
      manifestDigest: result.manifestDigest,
      diffIds: result.diffIds,
      commit: result.commit,
      reproducible: result.reproducible,
      tee: identity.tee,
      signingKeySha256: identity.key.spkiSha256,
      stageDurationsMs: result.stageDurationsMs,
      ...(result.published ? { published: result.published } : {}),
    };
    if (options.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else
      process.stdout.write(
        [
          `image     ${result.manifestDigest}`,
          `commit    ${result.commit}`,
          `reproducible ${result.reproducible === true ? 'yes (rebuilt to the same digest)' : 'not checked (--no-rebuild)'}`,
          `tee       ${identity.tee}${identity.tee.startsWith('simulated') ? ' (SIMULATED: no hardware isolation; verifiers refuse it by default)' : ''}`,
          ...(selected.seVerifierKeyPem
            ? [`se key    ${result.outDir}/se-verifier.pub.pem (pin it in the policy: se.verifierKeys)`]
            : []),
          ...(result.published
            ? [
                `pushed    ${result.published.reference}${result.published.tagged ? ` (${result.published.tagged})` : ''}`,
                `provenance attached as ${result.published.attestation.digest} (${result.published.attestation.via})`,
              ]
            : []),
          `output    ${result.outDir}/{oci,provenance.sigstore.json,build.log}`,
          '',
        ].join('\n'),
      );
  });
}
