/**
 * bench:api-keys — what authenticating a REST request with an API key costs next to a JWT, and
 * why the key is stored as an HMAC, not a password hash.
 *
 * 1. In-process: CPU µs of one HMAC-SHA-256 of a key (what every uncached verification costs)
 *    against one scrypt hash with the password hasher's parameters (what it would cost if keys
 *    were stored like passwords).
 * 2. Over HTTP: the real app (same wiring as main.ts, throwaway PostgreSQL) answers
 *    GET /api/auth/me for N sequential-per-connection requests from C keep-alive connections,
 *    once with a JWT and once with a read API key; req/s, p50/p99 and the process CPU ms per
 *    request (load generator included, the same for both), and the ratio key / JWT.
 * Env: BENCH_REQUESTS (4000), BENCH_CONNECTIONS (8), BENCH_RESULTS (bench/RESULTS.md; "-" prints only).
 */
import 'reflect-metadata';
import { createHmac, randomBytes, scryptSync } from 'node:crypto';
import type { Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { createTestApp, signupAndLogin } from '../test/support/app';
import { machineFacts, percentile, recordResults } from './support/results';

const env = (k: string, d: string) => process.env[k] ?? d;
const REQUESTS = Number(env('BENCH_REQUESTS', '4000'));
const CONNECTIONS = Number(env('BENCH_CONNECTIONS', '8'));
const RESULTS = env('BENCH_RESULTS', 'bench/RESULTS.md');

function cpuMicros(fn: () => void, n: number): number {
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / n;
}

async function load(pool: Pool, token: string) {
  const latencies: number[] = [];
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < REQUESTS) {
        next++;
        const s = performance.now();
        const res = await pool.request({
          method: 'GET',
          path: '/api/auth/me',
          headers: { authorization: `Bearer ${token}` },
        });
        await res.body.text();
        if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
        latencies.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  return {
    perSecond: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / latencies.length,
  };
}

async function main(): Promise<void> {
  const facts = machineFacts();
  const key = `uk_${randomBytes(32).toString('base64url')}`;
  const pepper = randomBytes(32).toString('base64url');
  const hmacUs = cpuMicros(() => createHmac('sha256', pepper).update(key).digest(), 20_000);
  const salt = randomBytes(16);
  const scryptUs = cpuMicros(
    () => scryptSync(key, salt, 32, { N: 1 << 15, r: 8, p: 1, maxmem: 128 * (1 << 15) * 8 * 2 }),
    5,
  );

  const t = await createTestApp({ LOG_LEVEL: 'silent' });
  try {
    const jwt = await signupAndLogin(t, 'bench-keys@example.com');
    const created = await t.http
      .post('/api/api-keys')
      .set('authorization', `Bearer ${jwt}`)
      .send({ name: 'bench', scope: 'read' })
      .expect(201);
    const server = t.app.getHttpServer() as Server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONNECTIONS });
    await load(pool, jwt); // warm-up of both paths
    await load(pool, created.body.key as string);
    const withJwt = await load(pool, jwt);
    const withKey = await load(pool, created.body.key as string);
    await pool.close();

    const row = (name: string, r: Awaited<ReturnType<typeof load>>) =>
      `| ${name} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(2)} / ${r.p99.toFixed(2)} | ${r.cpuMsPerRequest.toFixed(3)} |`;
    recordResults(
      RESULTS,
      [
        `## bench:api-keys — ${new Date().toISOString()}`,
        '',
        `${facts} In-process app on a throwaway local PostgreSQL; ${REQUESTS} GET /api/auth/me per ` +
          `run from ${CONNECTIONS} keep-alive connections in the same process (its CPU is in both rows).`,
        '',
        '| hash of one key | CPU µs |',
        '|---|---:|',
        `| HMAC-SHA-256 (what an uncached key check costs) | ${hmacUs.toFixed(1)} |`,
        `| scrypt N=2^15 r=8 p=1 (if keys were stored like passwords) | ${scryptUs.toFixed(0)} |`,
        `| ratio scrypt / HMAC | ${(scryptUs / hmacUs).toFixed(0)}× |`,
        '',
        '| bearer | req/s | p50 / p99 ms | CPU ms per request |',
        '|---|---:|---:|---:|',
        row('JWT (HS256)', withJwt),
        row('API key (read)', withKey),
        `| ratio key / JWT | ${(withKey.perSecond / withJwt.perSecond).toFixed(2)}× req/s | | ${(withKey.cpuMsPerRequest / withJwt.cpuMsPerRequest).toFixed(2)}× CPU |`,
      ].join('\n'),
    );
  } finally {
    await t.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
