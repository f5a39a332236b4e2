import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { ClusterCaller, ClusterNodeSpec, planCluster, startSpec } from '../support/cluster';
import { createTestDatabase, TestDatabase } from '../support/db';
import { latestSnapshot, snapshotPart } from '../support/raft-snapshot-file';
import { NodeProcess } from '../support/node-process';
import { sleep, waitFor } from '../support/wait';

/**
 * Issue 15, acceptance 2, on 3 real node processes: a push monitor (period 4 s, grace 2 s).
 * Beats sent to each node in turn keep it UP; without beats it is DOWN within
 * period + grace + 3 s of the last acknowledged beat (and never before period + grace of
 * the beat's committed time); a beat brings it back UP; kill -9 of the node (the leader)
 * that acknowledged the last beat loses that beat: no DOWN before its period + grace.
 * Plus the beat endpoint's bad input: unknown token, wrong method, a body (never read), rate,
 * rotation, and the token never in GET /api/websites or in the log.
 */
jest.setTimeout(240_000);

const PERIOD_S = 4;
const GRACE_S = 2;
const LIMIT_MS = (PERIOD_S + GRACE_S) * 1000;
const SLACK_MS = 3_000;
const caller = new ClusterCaller();

interface Row {
  round: number;
  verdict: string;
  decidedAt: number;
}
interface Ack {
  node: number;
  /** when the 200 arrived here */
  ackedAt: number;
  /** the beat's time as committed (the leader's clock) */
  committedAt: number;
}

describe('push monitors on 3 real processes', () => {
  let db: TestDatabase;
  let pg: Client;
  let root: string;
  let specs: ClusterNodeSpec[];
  let nodes: NodeProcess[] = [];
  let jwt = '';
  let siteId = '';
  let pushToken = '';
  let deletedId = '';
  const killed = new Set<number>();
  const figures: Record<string, unknown> = {};

  const api = (method: string, path: string, body?: unknown, node = 0) =>
    fetch(`${nodes[node].baseUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt}` },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  const ackMs: number[] = [];
  const acks: Ack[] = [];
  async function beat(node: number, token = pushToken, method = 'POST'): Promise<Ack> {
    const t0 = Date.now();
    const r = await fetch(`${nodes[node].baseUrl}/api/push/${token}`, { method });
    const body = (await r.json()) as { ok?: boolean; committedAt?: string };
    if (r.status !== 200)
      throw new Error(`beat to node ${node}: ${r.status} ${JSON.stringify(body)}`);
    ackMs.push(Date.now() - t0);
    const ack = { node, ackedAt: Date.now(), committedAt: Date.parse(body.committedAt!) };
    if (token === pushToken) acks.push(ack);
    return ack;
  }

  async function rows(after = 0): Promise<Row[]> {
    const r = await pg.query<{ round: string; verdict: string; decided_at: Date }>(
      'SELECT round, verdict, decided_at FROM decisions WHERE website_id = $1 AND decided_at > $2 ORDER BY round',
      [siteId, new Date(after)],
    );
    return r.rows.map((x) => ({
      round: Number(x.round),
      verdict: x.verdict,
      decidedAt: x.decided_at.getTime(),
    }));
  }

  const firstOf = async (verdict: string, after: number) =>
    (await rows(after)).find((r) => r.verdict === verdict);

  async function leader(): Promise<number> {
    const { value } = await waitFor(
      'a leader',
      20_000,
      async () => {
        for (const [i, n] of nodes.entries()) {
          if (killed.has(i)) continue;
          const s = await caller
            .get<{ role: string }>(n.baseUrl, '/api/raft/status')
            .catch(() => null);
          if (s?.body.role === 'leader') return { i };
        }
        return null;
      },
      100,
    );
    return value.i;
  }

  /** Beats every `everyMs` to the nodes in turn for `forMs`; returns every acknowledgment. */
  async function beatFor(forMs: number, everyMs: number, alive: number[]): Promise<Ack[]> {
    const sent: Ack[] = [];
    const t0 = Date.now();
    for (let i = 0; Date.now() - t0 < forMs; i++) {
      sent.push(await beat(alive[i % alive.length], pushToken, i % 2 === 0 ? 'POST' : 'GET'));
      await sleep(everyMs - (Date.now() - sent.at(-1)!.ackedAt));
    }
    return sent;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    root = mkdtempSync(join(tmpdir(), 'push-monitors-'));
    specs = await planCluster(3, (i) => join(root, `n${i + 1}`), {
      NODE_ENV: 'test',
      DATABASE_URL: db.url,
      TALLY_DEADLINE_MS: '500',
      RAFT_ELECTION_TIMEOUT_MS: '1000',
      RAFT_SNAPSHOT_EVERY: '20',
    });
    // Node 1 logs every request: the token must not be in any of those lines.
    specs[0].env.LOG_LEVEL = 'info';
    const booting = Date.now();
    nodes = await Promise.all(specs.map(startSpec));
    await Promise.all(nodes.map((n) => n.waitReady(90_000)));
    figures.bootMs = Date.now() - booting;
    const cred = { email: 'push@example.com', password: 'correct horse battery' };
    expect((await api('POST', '/api/auth/signup', cred)).status).toBe(201);
    jwt = ((await (await api('POST', '/api/auth/login', cred)).json()) as { accessToken: string })
      .accessToken;
    const r = await api('POST', '/api/websites', {
      name: 'nightly backup',
      check: { kind: 'push', periodS: PERIOD_S, graceS: GRACE_S },
    });
    const site = (await r.json()) as {
      id: string;
      url: string;
      pushToken?: string;
      intervalMs: number;
    };
    expect(r.status).toBe(201);
    expect(site.url).toBe(`push://${site.id}`);
    expect(site.intervalMs).toBe(2_000);
    expect(site.pushToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    siteId = site.id;
    pushToken = site.pushToken!;
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop('SIGTERM').catch(() => undefined)));
    await pg?.end().catch(() => undefined);
    await db?.drop();
    if (root) rmSync(root, { recursive: true, force: true });
    const sorted = [...ackMs].sort((a, b) => a - b);
    figures.beatAckMs = {
      n: sorted.length,
      median: sorted[Math.floor(sorted.length / 2)],
      max: sorted.at(-1),
    };
    console.log(`push e2e figures: ${JSON.stringify(figures)}`);
  });

  it('bad input: unknown token 404, wrong method 405, body never read, too fast 429', async () => {
    const n = 0; // the node that logs every request
    const unknown = randomBytes(32).toString('base64url');
    for (const t of [unknown, 'short', `${pushToken}x`, '%00']) {
      const r = await fetch(`${nodes[n].baseUrl}/api/push/${t}`, { method: 'POST' });
      expect(r.status).toBe(404);
    }
    for (const method of ['PUT', 'DELETE', 'PATCH']) {
      const r = await fetch(`${nodes[n].baseUrl}/api/push/${pushToken}`, { method });
      expect(r.status).toBe(405);
      expect(r.headers.get('allow')).toBe('GET, POST');
    }
    // The body is never read (the path is the credential): a large JSON body to an unknown
    // token is a 404, not a parse, and to the real token the beat counts.
    const big = (t: string) =>
      fetch(`${nodes[n].baseUrl}/api/push/${t}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"pad":"${'x'.repeat(4_000_000)}`,
      });
    expect((await big(unknown)).status).toBe(404);
    expect((await big(pushToken)).status).toBe(200);
    // A small body of any type is ignored: the beat counts.
    const small = await fetch(`${nodes[n].baseUrl}/api/push/${pushToken}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'backup finished in 42 s',
    });
    expect(small.status).toBe(200);

    // A second monitor: rotation and the per-token rate.
    const r = await api('POST', '/api/websites', { check: { kind: 'push' } }, n);
    const other = (await r.json()) as { id: string; pushToken: string; check: unknown };
    expect(r.status).toBe(201);
    expect(other.check).toEqual({ kind: 'push', periodS: 60, graceS: 30 });
    const rotated = await api('POST', `/api/websites/${other.id}/push-token`, undefined, n);
    const { token } = (await rotated.json()) as { token: string };
    expect(rotated.status).toBe(200);
    expect((await fetch(`${nodes[n].baseUrl}/api/push/${other.pushToken}`)).status).toBe(404);
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++)
      statuses.push((await fetch(`${nodes[n].baseUrl}/api/push/${token}`)).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(200));
    expect(statuses.slice(10)).toEqual([429, 429]);
    // Only push sites have a token; a push site's url is the server's.
    const http = await api('POST', '/api/websites', { url: 'http://8.8.8.8/', paused: true }, n);
    const httpId = ((await http.json()) as { id: string }).id;
    expect((await api('POST', `/api/websites/${httpId}/push-token`, undefined, n)).status).toBe(
      400,
    );
    expect(
      (await api('PUT', `/api/websites/${other.id}`, { url: 'https://example.com/' }, n)).status,
    ).toBe(400);
    // A push site's rounds stay every 2 s; a dialled kind keeps its 10 s minimum.
    const edited = await api('PUT', `/api/websites/${other.id}`, { intervalMs: 30_000 }, n);
    expect(((await edited.json()) as { intervalMs: number }).intervalMs).toBe(2_000);
    expect((await api('PUT', `/api/websites/${httpId}`, { intervalMs: 2_000 }, n)).status).toBe(
      400,
    );
    expect(
      (await api('POST', '/api/websites', { check: { kind: 'push', periodS: 1 } }, n)).status,
    ).toBe(400);
    expect((await api('POST', '/api/websites', {}, n)).status).toBe(400);
    // Deleted: its beats leave the ledger with its forget-site entry (checked in the snapshot).
    expect(statuses.filter((x) => x === 200).length).toBeGreaterThan(0);
    expect((await api('DELETE', `/api/websites/${other.id}`, undefined, n)).status).toBe(204);
    deletedId = other.id;
  });

  it('beats to each node in turn keep it UP; without beats DOWN within period + grace + 3 s; a beat: UP', async () => {
    const armed = Date.now();
    // Armed at creation: UP before the first beat.
    await waitFor('a first UP decision', 20_000, () => firstOf('UP', 0), 200);
    const sent = await beatFor(LIMIT_MS + 2_000, 1_500, [0, 1, 2]);
    expect(new Set(sent.map((a) => a.node))).toEqual(new Set([0, 1, 2]));
    const last = sent.at(-1)!;
    const down = await waitFor(
      'DOWN after the beats stop',
      LIMIT_MS + SLACK_MS + 5_000,
      () => firstOf('DOWN', armed),
      100,
    );
    figures.downAfterLastAckMs = down.value.decidedAt - last.ackedAt;
    figures.downAfterCommittedBeatMs = down.value.decidedAt - last.committedAt;
    expect(down.value.decidedAt - last.ackedAt).toBeLessThanOrEqual(LIMIT_MS + SLACK_MS);
    expect(down.value.decidedAt - last.committedAt).toBeGreaterThan(LIMIT_MS);
    // No DOWN until then, while the beats came in turn to every node (a round short of votes,
    // e.g. while a node first lists the new site, is UNKNOWN: it changes nothing).
    const earlier = (await rows(armed)).filter((r) => r.round < down.value.round);
    expect(earlier.filter((r) => r.verdict === 'DOWN')).toEqual([]);
    expect(earlier.filter((r) => r.verdict === 'UP').length).toBeGreaterThan(0);
    figures.unknownBeforeDown = earlier
      .filter((r) => r.verdict === 'UNKNOWN')
      .map((r) => r.decidedAt - armed);

    const resumed = await beat(1);
    const up = await waitFor(
      'UP again after a beat',
      10_000,
      () => firstOf('UP', resumed.ackedAt),
      100,
    );
    figures.upAfterBeatMs = up.value.decidedAt - resumed.ackedAt;
  });

  it('kill -9 of the node that acknowledged the last beat: no DOWN before period + grace', async () => {
    await beatFor(3_000, 1_000, [0, 1, 2]);
    const victim = await leader();
    const last = await beat(victim);
    nodes[victim].proc.kill('SIGKILL');
    killed.add(victim);
    figures.killed = { node: victim, role: 'leader' };
    const alive = [0, 1, 2].filter((i) => i !== victim);
    // The two left still decide: DOWN only once the beat is period + grace old.
    const down = await waitFor(
      'DOWN on two nodes',
      LIMIT_MS + SLACK_MS + 10_000,
      () => firstOf('DOWN', last.ackedAt),
      100,
    );
    figures.downAfterKillMs = down.value.decidedAt - last.committedAt;
    expect(down.value.decidedAt - last.committedAt).toBeGreaterThan(LIMIT_MS);
    // Rows are projected in log order: every decision before that DOWN is here, none DOWN.
    const before = (await rows(last.ackedAt)).filter((r) => r.round < down.value.round);
    expect(before.length).toBeGreaterThan(0);
    expect(before.filter((r) => r.verdict === 'DOWN')).toEqual([]);
    expect(before.some((r) => r.verdict === 'UP')).toBe(true);
    // And a beat to a survivor brings it back.
    const again = await beat(alive[0]);
    await waitFor('UP on two nodes', 10_000, () => firstOf('UP', again.ackedAt), 100);
  });

  it('the beats part is in the snapshot image of the nodes left, without the deleted site', async () => {
    const firstBeat = Math.min(...acks.map((a) => a.committedAt));
    const images = await waitFor(
      'snapshots holding the site’s beats',
      30_000,
      async () => {
        const found = [0, 1, 2]
          .filter((i) => !killed.has(i))
          .map((i) => beatsInSnapshot(specs[i].dataDir));
        const fresh = found.every((m) => (m.get(siteId) ?? 0) >= firstBeat && !m.has(deletedId));
        return fresh ? found.map((m) => m.get(siteId)) : null;
      },
      500,
    );
    figures.snapshotBeats = images.value;
  });

  it('the token is never in GET /api/websites nor in the log', async () => {
    const n = alive();
    const list = await api('GET', '/api/websites?limit=100', undefined, n);
    const text = await list.text();
    expect(list.status).toBe(200);
    expect(text).toContain(siteId);
    expect(text).not.toContain(pushToken);
    expect(text).not.toContain('pushToken');
    const one = await (await api('GET', `/api/websites/${siteId}`, undefined, n)).text();
    expect(one).not.toContain(pushToken);
    // The status shows when the last beat committed (this node's replica).
    const lastBeatAt = (JSON.parse(one) as { status: { lastBeatAt: string } }).status.lastBeatAt;
    expect(Date.parse(lastBeatAt)).toBe(Math.max(...acks.map((a) => a.committedAt)));
    const logs = nodes.map((x) => x.output()).join('\n');
    expect(nodes[0].output()).toContain('/api/push/[redacted]');
    expect(logs).not.toContain(pushToken);
  });

  function alive(): number {
    return [0, 1, 2].find((i) => !killed.has(i))!;
  }
});

/** site → last beat in the `beats` part of the newest snapshot under a node's data dir. */
function beatsInSnapshot(dir: string): Map<string, number> {
  const snap = latestSnapshot(dir);
  const part = snap && snapshotPart<{ last: [string, number][] }>(snap, 'beats');
  return new Map(part?.last ?? []);
}
