#!/usr/bin/env node
'use strict';
// Builds the TypeScript once if dist/ is missing (e.g. after `npm ci --ignore-scripts`).
const { existsSync } = require('node:fs');
const { execSync } = require('node:child_process');
const { join } = require('node:path');

const root = join(__dirname, '..');
if (!existsSync(join(root, 'dist/apps/api/src/main.js'))) {
  process.stderr.write('building secure-build (first run)…\n');
  execSync('npm run build', { cwd: root, stdio: 'inherit' });
}
