import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runToExit, startNode } from '../support/node-process';

/**
 * The built node as a real process on its embedded defaults: no DATABASE_URL
 * (PGlite under DATA_DIR), no Kafka (in-process bus), a cluster of one.
 */
jest.setTimeout(120_000);

async function json(res: Response): Promise<any> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`not JSON (${res.status}): ${text}`);
  }
}

async function api(base: string, method: string, path: string, body?: unknown, token?: string) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: res.status === 204 ? null : await json(res) };
}

describe('node process', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'uptime-node-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it.each([
    ['PORT', 'abc', /config error: PORT: expected an integer/],
    ['PEERS', '::', /config error: PEERS: expected a comma-separated list of host:port/],
    ['QUORUM_THRESHOLD', '2', /config error: QUORUM_THRESHOLD: expected a number in \(0\.5, 1\]/],
  ])('%s=%s stops the process with a line naming it', async (name, value, line) => {
    const { code, output } = await runToExit({ DATA_DIR: dataDir, [name]: value });
    expect(code).not.toBe(0);
    expect(output).toMatch(line);
    expect(output.trim().split('\n')).toHaveLength(1);
  });

  it('is ready on embedded defaults and keeps a site across a restart', async () => {
    const env = { DATA_DIR: dataDir, ALLOW_PRIVATE_TARGETS: 'true', PING_INTERVAL_MS: '60000' };
    const first = await startNode(env);
    try {
      const readyMs = await first.waitReady(30_000);
      expect(readyMs).toBeLessThan(30_000);
      const ready = await json(await fetch(`${first.baseUrl}/health/ready`));
      expect(ready.status).toBe('ok');
      expect(ready.info.events.kind).toBe('in-process');
      expect(ready.info.raft.role).toBe('leader');

      const creds = { email: 'owner@example.com', password: 'correct horse battery' };
      expect((await api(first.baseUrl, 'POST', '/api/auth/signup', creds)).status).toBe(201);
      const login = await api(first.baseUrl, 'POST', '/api/auth/login', creds);
      expect(login.status).toBe(200);
      const site = await api(
        first.baseUrl,
        'POST',
        '/api/websites',
        { url: 'http://127.0.0.1:9/', name: 'kept' },
        login.body.accessToken,
      );
      expect(site.status).toBe(201);
    } finally {
      expect(await first.stop('SIGTERM')).toBe(0);
    }

    const second = await startNode(env);
    try {
      await second.waitReady(30_000);
      const login = await api(second.baseUrl, 'POST', '/api/auth/login', {
        email: 'owner@example.com',
        password: 'correct horse battery',
      });
      expect(login.status).toBe(200);
      const list = await api(
        second.baseUrl,
        'GET',
        '/api/websites',
        undefined,
        login.body.accessToken,
      );
      expect(list.status).toBe(200);
      expect(list.body.items.map((s: { name: string }) => s.name)).toEqual(['kept']);
    } finally {
      expect(await second.stop('SIGTERM')).toBe(0);
    }
  });

  it('exits 0 on SIGTERM under load, with no unhandled rejection', async () => {
    const node = await startNode({ DATA_DIR: dataDir });
    await node.waitReady(30_000);
    let stop = false;
    let ok = 0;
    let refused = 0;
    const worker = async () => {
      while (!stop) {
        try {
          const res = await fetch(`${node.baseUrl}/api/auth/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email: 'nobody@example.com', password: 'x' }),
          });
          await res.arrayBuffer();
          ok += 1;
        } catch {
          refused += 1;
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    };
    const workers = Array.from({ length: 16 }, () => worker());
    await new Promise((r) => setTimeout(r, 1_500));
    const t0 = Date.now();
    const code = await node.stop('SIGTERM');
    const tookMs = Date.now() - t0;
    stop = true;
    await Promise.all(workers);
    expect(ok).toBeGreaterThan(10);
    expect(code).toBe(0);
    expect(tookMs).toBeLessThan(10_000);
    expect(node.output()).not.toMatch(/unhandled rejection|UnhandledPromiseRejection/i);
    expect(node.output()).toMatch(/closed cleanly/);
    // refused connections after close are expected; keep the figure for the log
    console.log(
      `load during shutdown: ${ok} responses, ${refused} refused; exit after ${tookMs} ms`,
    );
  });
});
