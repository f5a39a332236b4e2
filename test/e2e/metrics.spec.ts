// GET /metrics over real HTTP: the real `prometheus` binary (Debian package) scrapes the node and
// reports the target healthy with every expected family and no duplicate samples; Prometheus' own
// parser (promtool) accepts the text; access follows METRICS_TOKEN / METRICS_PORT / production;
// labels stay bounded with 10,000 sites (per-site families only behind METRICS_PER_SITE, capped).
import { execFileSync, spawn, ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { SiteStatusMachine } from '@/core/consensus/site-status.machine';
import type { CheckResult } from '@/modules/ping/check-result';
import { PingMetrics } from '@/modules/ping/ping-metrics';
import { createTestApp, signupAndLogin, TestApp } from '../support/app';
import { freePort } from '../support/node-process';

jest.setTimeout(180_000);

const PROMETHEUS = process.env.PROMETHEUS_PATH ?? '/usr/bin/prometheus';
const PROMTOOL = process.env.PROMTOOL_PATH ?? '/usr/bin/promtool';

/** Families every node serves (histograms as their base name). */
const FAMILIES = [
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'nodejs_eventloop_lag_seconds',
  'ping_schedule_lag_seconds',
  'ping_check_duration_seconds',
  'ping_checks_total',
  'ping_queue_depth',
  'dns_cache_hits_total',
  'dns_cache_entries',
  'gossip_votes_published_total',
  'gossip_votes_rejected_total',
  'alerts_consumed_total',
  'alert_delivery_attempts_total',
  'tally_open_rounds',
  'tally_rounds_finalized_total',
  'projector_lag_entries',
  'projector_active',
  'raft_role',
  'raft_term',
  'raft_commit_index',
  'raft_applied_index',
  'raft_append_duration_seconds',
  'http_request_duration_seconds',
];

interface Sample {
  name: string;
  labels: string;
  value: string;
}

/** Sample lines of the exposition text (Prometheus' parser is promtool, below; this only splits). */
function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    out.push({ name: m[1], labels: m[2] ?? '', value: m[3] });
  }
  return out;
}

/** Families the text declares (# TYPE), with or without samples yet. */
function declared(text: string): Set<string> {
  return new Set(
    text
      .split('\n')
      .filter((l) => l.startsWith('# TYPE '))
      .map((l) => l.split(' ')[2]),
  );
}

function familyOf(name: string): string {
  return name.replace(/_(bucket|sum|count)$/, '');
}

function seriesPerFamily(text: string): Map<string, number> {
  const n = new Map<string, number>();
  for (const s of samples(text)) n.set(familyOf(s.name), (n.get(familyOf(s.name)) ?? 0) + 1);
  return n;
}

function duplicates(text: string): string[] {
  const seen = new Set<string>();
  const dup: string[] = [];
  for (const s of samples(text)) {
    const key = `${s.name}${s.labels}`;
    if (seen.has(key)) dup.push(key);
    seen.add(key);
  }
  return dup;
}

/** Runs Prometheus' own text parser over `text`; returns its complaints (parse errors throw). */
function promtoolCheck(text: string): string {
  try {
    return execFileSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    // Exit 3: lint findings only (naming advice); anything else is a parse failure.
    if (err.status === 3) return `${err.stdout}${err.stderr}`;
    throw new Error(
      `promtool could not parse the metrics (exit ${err.status}): ${err.stderr}${err.stdout}`,
    );
  }
}

/**
 * promtool's naming advice about our own families. prom-client's default
 * `nodejs_active_*_total` gauges are named upstream, so they are the only findings allowed.
 */
function ownLintFindings(text: string): string[] {
  return promtoolCheck(text)
    .split('\n')
    .filter((line) => line.trim() !== '' && !/^nodejs_active_\w+_total /.test(line));
}

const siteIdOf = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

function addDecisions(machine: SiteStatusMachine, n: number): void {
  for (let i = 0; i < n; i++) {
    const siteId = siteIdOf(i);
    machine.applyDecision({
      siteId,
      round: 1_000_000,
      verdict: i % 3 === 0 ? 'DOWN' : 'UP',
      regionVerdicts: {},
      tally: { up: 1, down: 0, total: 1, quorum: 1, byRegion: {} },
      voters: ['0'],
      decidedAt: 1_800_000_000_000,
    });
  }
}

describe('GET /metrics', () => {
  describe('open (development)', () => {
    let t: TestApp;
    let token: string;

    beforeAll(async () => {
      t = await createTestApp();
      token = await signupAndLogin(t, 'metrics@example.com');
    });
    afterAll(async () => {
      await t?.close();
    });

    it('serves every family once, in a text Prometheus parses', async () => {
      const site = await t.http
        .post('/api/websites')
        .set('authorization', `Bearer ${token}`)
        .send({ url: 'http://127.0.0.1:9/x', paused: true })
        .expect(201);
      await t.http
        .get(`/api/websites/${site.body.id}`)
        .set('authorization', `Bearer ${token}`)
        .expect(200);
      for (let i = 0; i < 50; i++) await t.http.get(`/api/junk/${randomBytes(6).toString('hex')}`);

      const res = await t.http.get('/metrics').expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain;.*version=0\.0\.4/);
      const text = res.text;
      const families = seriesPerFamily(text);
      expect(FAMILIES.filter((f) => !declared(text).has(f))).toEqual([]);
      expect(duplicates(text)).toEqual([]);
      expect(ownLintFindings(text)).toEqual([]);

      // Route templates, never raw paths: ids and junk URLs add no series.
      expect(text).toContain('route="/api/websites/:id"');
      expect(text).toContain('route="(unmatched)"');
      expect(text).not.toContain(site.body.id);
      expect(text).not.toContain('/api/junk/');
      // The Raft host reports its appends (a single node commits its own entries).
      const appends = samples(text).find((x) => x.name === 'raft_append_duration_seconds_count');
      expect(Number(appends?.value)).toBeGreaterThan(0);
      expect(
        samples(text).find((x) => x.name === 'raft_role' && x.labels.includes('leader'))?.value,
      ).toBe('1');
      // No per-site families without METRICS_PER_SITE.
      expect(families.has('site_status')).toBe(false);
    });

    it('keeps every family bounded with 10,000 sites', async () => {
      addDecisions(t.app.get(SiteStatusMachine), 10_000);
      expect(t.app.get(SiteStatusMachine).size).toBeGreaterThanOrEqual(10_000);
      const text = (await t.http.get('/metrics').expect(200)).text;
      const families = seriesPerFamily(text);
      const largest = Math.max(...families.values());
      // The largest family is the HTTP histogram: routes × methods × status classes × buckets.
      expect(largest).toBeLessThan(1_000);
      expect(text).not.toContain('00000000-0000-4000-8000-');
      expect(duplicates(text)).toEqual([]);
    });

    it('is scraped by the real Prometheus: target up, every family stored, no duplicate samples', async () => {
      expect(existsSync(PROMETHEUS)).toBe(true); // apt-get install prometheus (.ci/run does)
      const server = t.app.getHttpServer() as Server;
      await new Promise<void>((r) => (server.listening ? r() : server.listen(0, '127.0.0.1', r)));
      const appPort = (server.address() as { port: number }).port;
      const prom = await startPrometheus(appPort, undefined);
      try {
        const target = await prom.waitForScrape();
        expect(target).toMatchObject({ health: 'up', lastError: '' });
        const names = await prom.api<string[]>('/api/v1/label/__name__/values');
        const stored = new Set(names.map(familyOf));
        // Every family with a sample in our text is stored (labelled families without any
        // observation yet have no sample to store).
        const withSamples = [...seriesPerFamily((await t.http.get('/metrics')).text).keys()];
        expect(withSamples.length).toBeGreaterThan(40);
        expect(withSamples.filter((f) => !stored.has(f))).toEqual([]);
        expect(FAMILIES.filter((f) => withSamples.includes(f) && !stored.has(f))).toEqual([]);
        // Prometheus counts samples it dropped as duplicates or out of order in a scrape.
        const own = await (await fetch(`${prom.url}/metrics`)).text();
        for (const counter of [
          'prometheus_target_scrapes_sample_duplicate_timestamp_total',
          'prometheus_target_scrapes_sample_out_of_order_total',
        ]) {
          const line = own.split('\n').find((l) => l.startsWith(`${counter} `));
          expect(line).toBe(`${counter} 0`);
        }
      } finally {
        await prom.stop();
      }
    });
  });

  describe('METRICS_TOKEN, METRICS_PER_SITE', () => {
    let t: TestApp;
    const metricsToken = randomBytes(24).toString('base64url');

    beforeAll(async () => {
      t = await createTestApp({
        METRICS_TOKEN: metricsToken,
        METRICS_PER_SITE: 'true',
        METRICS_PER_SITE_LIMIT: '1000',
      });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('needs the bearer token', async () => {
      for (const auth of [
        undefined,
        'Bearer wrong',
        `Basic ${metricsToken}`,
        `Bearer ${metricsToken}x`,
      ]) {
        const req = t.http.get('/metrics');
        const res = await (auth ? req.set('authorization', auth) : req);
        expect({ status: res.status, error: res.body.error }).toEqual({
          status: 401,
          error: 'UNAUTHENTICATED',
        });
      }
      await t.http.get('/metrics').set('authorization', `Bearer ${metricsToken}`).expect(200);
    });

    it('caps the per-site families at METRICS_PER_SITE_LIMIT with 10,000 sites', async () => {
      addDecisions(t.app.get(SiteStatusMachine), 10_000);
      // This node's last check of two shown sites and of one beyond the limit.
      const ping = t.app.get(PingMetrics);
      const result = { up: true, latencyMs: 42, phases: {}, checkedAt: 1 } as CheckResult;
      for (const i of [0, 1, 9_999]) ping.checkFinished(result, 'main', siteIdOf(i));
      const text = (
        await t.http.get('/metrics').set('authorization', `Bearer ${metricsToken}`).expect(200)
      ).text;
      const families = seriesPerFamily(text);
      expect(families.get('site_status')).toBe(1_000);
      expect(families.get('site_last_round')).toBe(1_000);
      expect(families.get('site_check_latency_seconds')).toBe(2);
      expect(text).toContain(`site_check_latency_seconds{site_id="${siteIdOf(0)}"} 0.042`);
      expect(text).toContain('site_metrics_omitted 9000');
      expect(duplicates(text)).toEqual([]);
      expect(ownLintFindings(text)).toEqual([]);
    });

    it('is scraped by Prometheus with the token', async () => {
      const server = t.app.getHttpServer() as Server;
      await new Promise<void>((r) => (server.listening ? r() : server.listen(0, '127.0.0.1', r)));
      const appPort = (server.address() as { port: number }).port;
      const prom = await startPrometheus(appPort, metricsToken);
      try {
        expect(await prom.waitForScrape()).toMatchObject({ health: 'up', lastError: '' });
        const up = await prom.api<{ value: [number, string] }[]>(
          '/api/v1/query?query=count(site_status)',
        );
        expect(up[0]?.value[1]).toBe('1000');
      } finally {
        await prom.stop();
      }
    });
  });

  it('METRICS_PORT: served on its own port only', async () => {
    const port = await freePort();
    const t = await createTestApp({ METRICS_PORT: String(port), HOST: '127.0.0.1' });
    try {
      const res = await t.http.get('/metrics');
      expect({ status: res.status, error: res.body.error }).toEqual({
        status: 404,
        error: 'NOT_FOUND',
      });
      const scraped = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('raft_term');
      expect((await fetch(`http://127.0.0.1:${port}/api/websites`)).status).toBe(404);
    } finally {
      await t.close();
    }
    // closed with the app
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });

  it('production without METRICS_TOKEN or METRICS_PORT: refused', async () => {
    const t = await createTestApp({
      NODE_ENV: 'production',
      JWT_SECRET: randomBytes(32).toString('base64'),
    });
    try {
      const res = await t.http.get('/metrics');
      expect({ status: res.status, error: res.body.error }).toEqual({
        status: 403,
        error: 'FORBIDDEN',
      });
      expect(res.body.message).toContain('METRICS_TOKEN');
    } finally {
      await t.close();
    }
  });
});

interface Prometheus {
  url: string;
  api<T>(path: string): Promise<T>;
  waitForScrape(): Promise<{ health: string; lastError: string }>;
  stop(): Promise<void>;
}

async function startPrometheus(appPort: number, bearer: string | undefined): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'uptime-prom-'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'global:',
      '  scrape_interval: 1s',
      'scrape_configs:',
      '  - job_name: uptime',
      '    metrics_path: /metrics',
      ...(bearer
        ? ['    authorization:', '      type: Bearer', `      credentials: ${bearer}`]
        : []),
      '    static_configs:',
      `      - targets: ['127.0.0.1:${appPort}']`,
      '',
    ].join('\n'),
  );
  const proc: ChildProcess = spawn(
    PROMETHEUS,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  proc.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const api = async <T>(path: string): Promise<T> => {
    const body = (await (await fetch(`${url}${path}`)).json()) as { status: string; data: unknown };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${JSON.stringify(body)}`);
    const data = body.data as { result?: unknown };
    return (data && typeof data === 'object' && 'result' in data ? data.result : data) as T;
  };
  return {
    url,
    api,
    async waitForScrape() {
      // Waits for an event (the first completed scrape), not for a duration.
      for (let i = 0; i < 600; i++) {
        try {
          const targets = await api<{ activeTargets: { health: string; lastError: string }[] }>(
            '/api/v1/targets',
          );
          const t = targets.activeTargets[0];
          if (t && t.health !== 'unknown') {
            // One more scrape so the second sample of every counter exists too.
            const names = await api<string[]>('/api/v1/label/__name__/values');
            if (names.includes('raft_term')) return t;
          }
        } catch {
          // not up yet
        }
        if (proc.exitCode !== null) throw new Error(`prometheus exited:\n${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`prometheus never scraped the node:\n${log}`);
    },
    async stop() {
      proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
