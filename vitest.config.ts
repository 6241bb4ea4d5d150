import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// One source of truth for the @secure-build/* aliases: the paths in tsconfig.json.
const { paths } = JSON.parse(readFileSync(resolve(__dirname, 'tsconfig.json'), 'utf8')).compilerOptions as {
  paths: Record<string, string[]>;
};
const alias = Object.fromEntries(Object.entries(paths).map(([name, [target]]) => [name, resolve(__dirname, target)]));
// esbuild drops emitDecoratorMetadata, which Nest's constructor injection needs; SWC keeps it.
const plugins = [swc.vite({ tsconfigFile: resolve(__dirname, 'tsconfig.json'), module: { type: 'es6' } })];

export default defineConfig({
  plugins,
  resolve: { alias },
  test: {
    env: { TZ: 'UTC' },
    projects: [
      {
        plugins,
        resolve: { alias },
        test: { name: 'unit', include: ['{apps,libs}/**/*.spec.ts'], testTimeout: 30_000 },
      },
      {
        plugins,
        resolve: { alias },
        test: {
          name: 'e2e',
          include: ['test/**/*.e2e-spec.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
