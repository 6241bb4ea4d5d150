import { readFileSync } from 'node:fs';

import { parseRegistryAuthFile, RegistryAccess } from '@secure-build/build';
import type { AppConfig } from '@secure-build/config';

/** The worker's registry access from config; an unreadable auth file stops the worker at boot. */
export function registryAccessFromConfig(config: AppConfig): RegistryAccess {
  const { authFile, plainHttp } = config.registry;
  const credentials = authFile ? parseRegistryAuthFile(readFileSync(authFile, 'utf8'), authFile) : {};
  return new RegistryAccess({ credentials, plainHttpRegistries: plainHttp });
}
