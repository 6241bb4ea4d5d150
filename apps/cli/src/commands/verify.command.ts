import { Command } from 'commander';

import { isSha256Digest } from '@secure-build/common';
import { parsePolicy, verifyProvenanceBundle } from '@secure-build/provenance';

import { parseAsOf, readInputText } from '../input';
import { CliError, ExitCode } from '../exit-codes';
import { fetchBundle } from './service.commands';
import { formatReport } from '../output/print-report';

interface VerifyOptions {
  policy: string;
  server?: string;
  build?: string;
  imageDigest?: string;
  asOf?: string;
  json?: boolean;
}

/** `secure-build verify`: offline verification of a provenance bundle against a policy. */
export function verifyCommand(): Command {
  return new Command('verify')
    .description('verify a provenance bundle offline: signature, TEE evidence and binding, subject, policy')
    .argument('[bundle]', 'Sigstore bundle (provenance.sigstore.json); or use --server and --build')
    .requiredOption('--policy <file>', 'policy file (YAML or JSON)')
    .option('--server <url>', 'fetch the bundle of --build from this Secure Build API (token: SECURE_BUILD_TOKEN)')
    .option('--build <id>', 'build id whose provenance to fetch from --server')
    .option('--image-digest <sha256:hex>', 'the image digest you are about to deploy; must be a subject')
    .option('--as-of <time>', 'RFC 3339 time at which evidence and collateral must be valid (default: the build time)')
    .option('--json', 'print the report as JSON')
    .action(async (bundlePath: string | undefined, options: VerifyOptions) => {
      if ((options.server === undefined) !== (options.build === undefined)) {
        throw new CliError('--server and --build go together');
      }
      if ((bundlePath === undefined) === (options.server === undefined)) {
        throw new CliError('give either a bundle file or --server <url> --build <id>');
      }
      if (options.imageDigest !== undefined && !isSha256Digest(options.imageDigest)) {
        throw new CliError(`--image-digest must look like sha256:<64 lower-case hex>, got '${options.imageDigest}'`);
      }
      const asOf = options.asOf === undefined ? undefined : parseAsOf(options.asOf);
      const policy = parsePolicy(await readInputText(options.policy, 'policy'), options.policy);
      const source = bundlePath ?? `build ${options.build} from ${options.server}`;
      const text = bundlePath
        ? await readInputText(bundlePath, 'bundle')
        : await fetchBundle(options.server ?? '', options.build ?? '');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (error) {
        throw new CliError(`bundle ${source} is not JSON: ${(error as Error).message}`);
      }
      const report = verifyProvenanceBundle(json, { policy, imageDigest: options.imageDigest, asOf });
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      process.exitCode = report.verified ? ExitCode.Ok : ExitCode.Failed;
    });
}
