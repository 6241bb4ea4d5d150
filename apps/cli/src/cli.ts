import { Command, CommanderError } from 'commander';

import { isDomainError } from '@secure-build/common';

import { attestationCommand } from './commands/attestation.command';
import { buildCommand } from './commands/build.command';
import { deploySnippetCommand, verifyImageCommand } from './commands/image.commands';
import { rebuildCommand } from './commands/rebuild.command';
import { logsCommand, provenanceCommand, statusCommand, submitCommand } from './commands/service.commands';
import { verifyCommand } from './commands/verify.command';
import { CliError, ExitCode } from './exit-codes';
import { secureBuildVersion } from '@secure-build/common';

// Domain error codes that mean "you gave me bad input" rather than "the work failed".
const INPUT_ERROR_CODES = new Set([
  'INVALID_URL',
  'LOCAL_REPO_NOT_ALLOWED',
  'INVALID_COMMIT',
  'RECIPE_PATH_INVALID',
  'OUTPUT_DIR_NOT_EMPTY',
  'POLICY_INVALID',
  'QUOTE_FORMAT',
  'INVALID_REF',
  'SIGNATURE_POLICY_INVALID',
  'REFERENCE_INVALID',
  'IMAGE_REFERENCE_INVALID',
  'PUSH_REFERENCE_INVALID',
  'BASE_IMAGE_INVALID',
  'TARGET_UNSUPPORTED',
  'TEE_UNSUPPORTED',
  'NAME_INVALID',
  'INVALID_OPTIONS',
]);

// What the user can do about a domain error, in CLI terms.
const HINTS: Record<string, string> = {
  LOCAL_REPO_NOT_ALLOWED: 'pass --allow-local-repo to build from a local path or file:// (development and tests only)',
};

/** Builds the command tree; exported for tests. */
export function createProgram(): Command {
  const program = new Command('secure-build')
    .description('Secure Build: pinned commits to verified, TEE-attested workload images')
    .version(secureBuildVersion())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  const commands = [
    buildCommand(),
    verifyCommand(),
    verifyImageCommand(),
    deploySnippetCommand(),
    rebuildCommand(),
    attestationCommand(),
    submitCommand(),
    statusCommand(),
    logsCommand(),
    provenanceCommand(),
  ];
  for (const command of commands) {
    program.addCommand(command.exitOverride());
  }
  return program;
}

/** Runs the CLI and returns the process exit code. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    await createProgram().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.Ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version'
        ? ExitCode.Ok
        : ExitCode.Usage;
    }
    if (error instanceof CliError) {
      process.stderr.write(`secure-build: ${error.message}\n`);
      return error.exitCode;
    }
    if (isDomainError(error)) {
      const hint = HINTS[error.code] ? `\n  hint: ${HINTS[error.code]}` : '';
      process.stderr.write(`secure-build: ${error.message} [${error.code}]${hint}\n`);
      return INPUT_ERROR_CODES.has(error.code) ? ExitCode.Usage : ExitCode.Failed;
    }
    process.stderr.write(`secure-build: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
    return ExitCode.Failed;
  }
}
