import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cached: string | undefined;

/** This package's version, read from the nearest package.json named secure-build (works from src and dist). */
export function secureBuildVersion(): string {
  if (cached) return cached;
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'secure-build' && pkg.version) return (cached = pkg.version);
  }
  return (cached = '0.0.0-unknown');
}
