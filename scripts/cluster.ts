/**
 * npm run cluster -- --nodes 3 [--base-port 3001] [--dir .cluster] [--database-url URL]
 * Starts N validators on 127.0.0.1 with distinct ports, regions and data
 * directories (one shared PostgreSQL: DATABASE_URL, or the local server's
 * "uptime_cluster" database, created if missing), prints where each listens,
 * and stops them all on Ctrl-C.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NODE_FLAGS } from '../src/config/node-flags';
import { Client } from 'pg';

const REGIONS = [
  'us-east-1',
  'eu-west-1',
  'ap-south-1',
  'sa-east-1',
  'ap-northeast-1',
  'eu-central-1',
  'us-west-2',
];

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function ensureDatabase(url: string): Promise<void> {
  const u = new URL(url);
  const name = u.pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const c = new Client({ connectionString: admin.toString() });
  await c.connect();
  try {
    const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (r.rowCount === 0) await c.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
  } finally {
    await c.end();
  }
}

async function main(): Promise<void> {
  const n = Number(arg('nodes', '3'));
  if (!Number.isInteger(n) || n < 1 || n > 7)
    throw new Error('--nodes must be 1..7 (Raft groups stay small)');
  const basePort = Number(arg('base-port', '3001'));
  const dir = resolve(arg('dir', '.cluster'));
  const databaseUrl = arg(
    'database-url',
    process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/uptime_cluster',
  );
  const main = resolve(__dirname, '..', 'dist', 'main.js');
  if (!existsSync(main)) throw new Error('dist/main.js is missing: run "npm run build" first');
  await ensureDatabase(databaseUrl);

  const secret = process.env.CLUSTER_SECRET ?? randomBytes(24).toString('base64url');
  const jwt = process.env.JWT_SECRET ?? randomBytes(36).toString('base64url');
  const addresses = Array.from({ length: n }, (_, i) => `127.0.0.1:${basePort + i}`);
  const children: ChildProcess[] = [];
  for (let i = 0; i < n; i++) {
    const dataDir = join(dir, `node-${i + 1}`);
    mkdirSync(dataDir, { recursive: true });
    const env = {
      ...process.env,
      PORT: String(basePort + i),
      VALIDATOR_ID: `v${i + 1}`,
      LOCATION: REGIONS[i % REGIONS.length],
      ADVERTISE_ADDRESS: addresses[i],
      PEERS: addresses.filter((_, j) => j !== i).join(','),
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      CLUSTER_SECRET: secret,
      JWT_SECRET: jwt,
      ALLOW_PRIVATE_TARGETS: process.env.ALLOW_PRIVATE_TARGETS ?? 'true',
    };
    const child = spawn(process.execPath, [...NODE_FLAGS, main], {
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    children.push(child);
    process.stdout.write(
      `node v${i + 1}  region ${env.LOCATION}  http://${addresses[i]}  (data ${dataDir}, pid ${child.pid})\n`,
    );
  }
  process.stdout.write(
    `\nshared database ${databaseUrl.replace(/\/\/[^@]*@/, '//…@')}; Ctrl-C stops all nodes\n`,
  );
  const stop = () => children.forEach((c) => c.kill('SIGTERM'));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await Promise.all(children.map((c) => new Promise((r) => c.once('exit', r))));
}

main().catch((e: unknown) => {
  process.stderr.write(`cluster: ${(e as Error).message}\n`);
  process.exit(1);
});
