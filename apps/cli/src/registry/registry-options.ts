import { readFile } from 'node:fs/promises';

import { Command } from 'commander';

import { parseRegistryAuthFile, RegistryAccess } from '@secure-build/build';

import { CliError } from '../exit-codes';

/** Registry flags shared by every command that talks to a registry. */
export interface RegistryFlags {
  plainHttp?: boolean;
  registryAuthFile?: string;
}

/** Adds --plain-http and --registry-auth-file to a command. */
export function withRegistryOptions(command: Command): Command {
  return command
    .option('--plain-http', 'talk to registries over http (a local test registry); default https')
    .option(
      '--registry-auth-file <path>',
      'Docker/Podman config.json with {"auths": {...}} credentials (default: $REGISTRY_AUTH_FILE when set)',
    );
}

/** Builds registry access from the flags; credentials are read from the file and never printed. */
export async function registryAccessFrom(
  flags: RegistryFlags,
  onLog?: (line: string) => void,
): Promise<RegistryAccess> {
  const authFile = flags.registryAuthFile ?? process.env.REGISTRY_AUTH_FILE;
  let credentials = {};
  if (authFile) {
    let text: string;
    try {
      text = await readFile(authFile, 'utf8');
    } catch (error) {
      throw new CliError(`cannot read registry auth file ${authFile}: ${(error as NodeJS.ErrnoException).code}`);
    }
    credentials = parseRegistryAuthFile(text, authFile);
  }
  return new RegistryAccess({ credentials, plainHttpAll: flags.plainHttp === true, onLog });
}
