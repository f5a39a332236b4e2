/**
 * bench:auth-flood — unauthenticated 16 MB bodies, 50 at a time, to every node-to-node
 * route of a real node (dist/main.js, a cluster of one on PostgreSQL). Two kinds of
 * caller: no signature headers at all, and well-formed headers with a wrong MAC (what
 * a scanner that read the README sends). For each route and kind it reports the
 * statuses, the node's peak RSS growth over its idle RSS, and the node's CPU time
 * (user + system, from /proc) per request. Bodies are never read, so CPU per request
 * should be far below the time to hash 16 MB (measured once here as the reference).
 *
 * The peers' stream route (GET /api/raft/stream with HTTP Upgrade) gets the same: an
 * upgrade request (unsigned, or with a forged MAC) followed at once by the body's bytes
 * on the raw connection; the node must answer 401 from the headers and read none of them.
 *
 * Pass: every reply 401, RSS growth < 50 MB, CPU < 5 ms per request.
 * Env: BENCH_CONCURRENCY (50), BENCH_BODY_MB (16), BENCH_ROUNDS (2 waves per route and kind),
 * BENCH_RESULTS (bench/RESULTS.md; "-" prints only). Needs `npm run build` and PostgreSQL.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { STREAM_PROTOCOL } from '../src/infra/cluster/cluster-stream';
import { STREAM_PATH } from '../src/modules/raft/raft-stream.link';
import { createTestDatabase } from '../test/support/db';
import { startNode } from '../test/support/node-process';
import { machineFacts, recordResults } from './support/results';

const env = (k: string, d: string) => process.env[k] ?? d;
const CONCURRENCY = Number(env('BENCH_CONCURRENCY', '50'));
const BODY_MB = Number(env('BENCH_BODY_MB', '16'));
const ROUNDS = Number(env('BENCH_ROUNDS', '2'));
const RESULTS = env('BENCH_RESULTS', 'bench/RESULTS.md');

const ROUTES = [
  '/api/raft/batch',
  '/api/raft/pre-vote',
  '/api/raft/request-vote',
  '/api/raft/append-entries',
  '/api/raft/install-snapshot',
  '/api/raft/timeout-now',
  '/api/raft/read-index',
  '/api/raft/kv',
  '/api/raft/kv/read',
  '/api/raft/kv/local',
  '/api/simulate/gossip',
  '/api/simulate/gossip/join',
  '/api/simulate/gossip/check',
  '/api/cluster/snapshot',
  '/api/cluster/push/beats',
  '/api/consensus/status/x',
  STREAM_PATH, // GET with Upgrade (upgradeOnce)
];

const TICK_MS = 1000 / 100; // /proc stat ticks (USER_HZ)

function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime + stime
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function forgedHeaders(path: string, body: Buffer): Record<string, string> {
  // Looks like ClusterAuth's output; the MAC is random, the digest claims the real body.
  return {
    'x-cluster-node': 'v2',
    'x-cluster-ts': String(Date.now()),
    'x-cluster-nonce': randomBytes(16).toString('hex'),
    'x-cluster-signature': randomBytes(32).toString('hex'),
    'x-cluster-digest': `${body.length}.${'ab'.repeat(32)}`,
  };
}

/** One upgrade to the stream route on a raw connection, the body right behind it: the status. */
function upgradeOnce(
  baseUrl: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<string> {
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let answer = '';
    const done = (key: string) => {
      socket.destroy();
      resolve(key);
    };
    socket.setTimeout(30_000, () => done('timeout'));
    socket.on('error', (e: NodeJS.ErrnoException) =>
      done(answer ? statusOf(answer) : (e.code ?? e.message)),
    );
    socket.on('data', (d: Buffer) => {
      answer += d.toString('latin1');
      if (answer.includes('\r\n')) done(statusOf(answer));
    });
    socket.on('close', () => done(answer ? statusOf(answer) : 'closed'));
    const head = [
      `GET ${STREAM_PATH} HTTP/1.1`,
      `Host: ${url.host}`,
      'Connection: Upgrade',
      `Upgrade: ${STREAM_PROTOCOL}`,
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ].join('\r\n');
    socket.write(`${head}\r\n\r\n`);
    socket.write(body, () => undefined);
  });
}

function statusOf(answer: string): string {
  return /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 'garbled';
}

async function main(): Promise<void> {
  const db = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-auth-'));
  const node = await startNode({
    DATABASE_URL: db.url,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'error',
    CLUSTER_SECRET: randomBytes(24).toString('base64'),
  });
  const body = randomBytes(BODY_MB * 1024 * 1024);
  const t0 = performance.now();
  createHash('sha256').update(body).digest();
  const hashMs = performance.now() - t0;
  const agent = new Agent({ connections: CONCURRENCY * 2, pipelining: 0 });
  const rows: string[] = [];
  let worstRss = 0;
  let worstCpu = 0;
  let non401 = 0;
  try {
    await node.waitReady(60_000);
    const pid = node.proc.pid!;
    await new Promise((r) => setTimeout(r, 2_000));
    const idleRss = rssMb(pid);
    for (const kind of ['no headers', 'forged MAC'] as const) {
      for (const path of ROUTES) {
        const before = rssMb(pid);
        let peak = before;
        const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 20);
        const cpu0 = cpuMs(pid);
        const statuses = new Map<string, number>();
        const w0 = performance.now();
        for (let round = 0; round < ROUNDS; round++) {
          await Promise.all(
            Array.from({ length: CONCURRENCY }, async () => {
              let key: string;
              const headers = kind === 'forged MAC' ? forgedHeaders(path, body) : {};
              if (path === STREAM_PATH) key = await upgradeOnce(node.baseUrl, headers, body);
              else
                try {
                  const res = await request(`${node.baseUrl}${path}`, {
                    method: 'POST',
                    dispatcher: agent,
                    headers: {
                      'content-type': 'application/json',
                      ...headers,
                    },
                    body,
                    headersTimeout: 30_000,
                    bodyTimeout: 30_000,
                  });
                  await res.body.text();
                  key = String(res.statusCode);
                } catch (e) {
                  key = (e as { code?: string }).code ?? (e as Error).message;
                }
              statuses.set(key, (statuses.get(key) ?? 0) + 1);
            }),
          );
        }
        const wallMs = performance.now() - w0;
        await new Promise((r) => setTimeout(r, 100));
        clearInterval(sampler);
        const n = CONCURRENCY * ROUNDS;
        const cpuPer = (cpuMs(pid) - cpu0) / n;
        const growth = peak - before;
        worstRss = Math.max(worstRss, growth);
        worstCpu = Math.max(worstCpu, cpuPer);
        non401 += n - (statuses.get('401') ?? 0);
        const st = [...statuses.entries()].map(([k, v]) => `${k}×${v}`).join(' ');
        rows.push(
          `| ${kind} | \`${path}\` | ${n} | ${st} | ${growth.toFixed(1)} | ${cpuPer.toFixed(2)} | ${wallMs.toFixed(0)} |`,
        );
        process.stdout.write(
          `${kind} ${path}: ${st}, +${growth.toFixed(1)} MB, ${cpuPer.toFixed(2)} ms CPU/req\n`,
        );
      }
    }
    const alive = (await fetch(`${node.baseUrl}/health/live`)).status;
    await new Promise((r) => setTimeout(r, 3_000));
    const finalRss = rssMb(pid);
    const pass = non401 === 0 && worstRss < 50 && worstCpu < 5 && alive === 200;
    recordResults(
      RESULTS,
      [
        `## bench:auth-flood — ${new Date().toISOString()}`,
        '',
        machineFacts(),
        '',
        `Unauthenticated ${BODY_MB} MB bodies, ${CONCURRENCY} concurrent, ${ROUNDS} waves per route and kind, ` +
          `to one node (dist/main.js). Node idle RSS ${idleRss.toFixed(0)} MB. Reference: SHA-256 of one ` +
          `${BODY_MB} MB body in this process takes ${hashMs.toFixed(1)} ms, so refusing from the headers ` +
          `costs ${(worstCpu / hashMs).toFixed(3)}× what merely hashing the body would (worst route).`,
        '',
        '| caller | route | requests | statuses | peak RSS growth during the wave (MB) | node CPU per request (ms) | wall (ms) |',
        '|---|---|---:|---|---:|---:|---:|',
        ...rows,
        '',
        `RSS after the whole flood (${rows.length * CONCURRENCY * ROUNDS} requests) and 3 s of quiet: ` +
          `${finalRss.toFixed(0)} MB (${(finalRss - idleRss).toFixed(1)} MB over idle).`,
        '',
        `Worst per-route RSS growth ${worstRss.toFixed(1)} MB (limit 50), worst CPU ${worstCpu.toFixed(2)} ms/request (limit 5), ` +
          `${non401} replies other than 401, node alive afterwards: ${alive === 200}. ${pass ? 'PASS' : 'FAIL'}.`,
      ].join('\n'),
    );
    if (!pass) process.exitCode = 1;
  } finally {
    await agent.close().catch(() => undefined);
    await node.stop('SIGTERM').catch(() => undefined);
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:auth-flood failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
