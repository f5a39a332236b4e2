#!/usr/bin/env node
// `prisma generate` needs no schema engine, but the CLI tries to download one
// unless PRISMA_SCHEMA_ENGINE_BINARY names an existing file. Pointing it at this
// script keeps install and build offline; a real engine path set by the user wins.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');

const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1' };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY || !fs.existsSync(env.PRISMA_SCHEMA_ENGINE_BINARY)) {
  env.PRISMA_SCHEMA_ENGINE_BINARY = __filename;
}
const bin = require.resolve('prisma/build/index.js');
const r = spawnSync(process.execPath, [bin, 'generate'], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
