#!/usr/bin/env node
'use strict';
// The CLI is compiled by `npm install` (the `prepare` script); point users there if it is missing.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const entry = join(__dirname, '..', 'dist', 'apps', 'cli', 'src', 'main.js');
if (!existsSync(entry)) {
  process.stderr.write('secure-build: not built yet; run `npm install` (or `npm run build`) in the repository root\n');
  process.exit(2);
}
require(entry);
