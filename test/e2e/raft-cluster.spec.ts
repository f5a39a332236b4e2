import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterCaller, ClusterNodeSpec, planCluster, startSpec } from '../support/cluster';
import { createTestDatabase, TestDatabase } from '../support/db';
import { NodeProcess } from '../support/node-process';

/**
 * Three real nodes over HTTP on 127.0.0.1, each with its own Raft log on disk.
 * The leader is killed with SIGKILL while writes stream in; a new leader must
 * appear within 3 s, and every acknowledged write must be on every node, once.
 */
jest.setTimeout(180_000);

const caller = new ClusterCaller();
const KEY = 'stream';

interface Status {
  role: string;
  term: number;
  leaderId: string | null;
  appliedIndex: number;
}

async function statusOf(node: NodeProcess): Promise<Status | null> {
  try {
    const r = await caller.get<Status>(node.baseUrl, '/api/raft/status', 1_000);
    return r.status === 200 ? r.body : null;
  } catch {
    return null;
  }
}

async function waitForLeader(nodes: NodeProcess[], specs: ClusterNodeSpec[], timeoutMs: number) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const statuses = await Promise.all(nodes.map(statusOf));
    const i = statuses.findIndex((s) => s?.role === 'leader');
    if (i >= 0)
      return {
        node: nodes[i],
        spec: specs.find((s) => s.port === nodes[i].port)!,
        after: Date.now() - t0,
      };
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no leader within ${timeoutMs} ms`);
}

function tokensOf(value: string | null): string[] {
  return (value ?? '').split(',').filter((t) => t.length > 0);
}

describe('raft cluster of 3 real processes', () => {
  let db: TestDatabase;
  let root: string;
  let specs: ClusterNodeSpec[];
  let nodes: NodeProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    root = mkdtempSync(join(tmpdir(), 'raft-cluster-'));
    specs = await planCluster(3, (i) => join(root, `n${i + 1}`), { DATABASE_URL: db.url });
    nodes = await Promise.all(specs.map(startSpec));
    await Promise.all(nodes.map((n) => n.waitReady(60_000)));
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop('SIGTERM').catch(() => undefined)));
    await db?.drop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('refuses unsigned, wrongly signed and replayed RPCs without touching state', async () => {
    const target = nodes[0];
    const before = (await statusOf(target))!;
    const msg = {
      type: 'RequestVote',
      from: specs[1].address,
      to: specs[0].address,
      term: before.term + 50,
      lastLogIndex: 10_000,
      lastLogTerm: before.term + 50,
      transfer: true,
    };
    const unsigned = await fetch(`${target.baseUrl}/api/raft/request-vote`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(msg),
    });
    expect(unsigned.status).toBe(401);

    const raw = Buffer.from(JSON.stringify(msg));
    const { ClusterAuth } = await import('@/infra/cluster/cluster-auth');
    const forger = new ClusterAuth('not-the-cluster-secret-at-all', 'x');
    const forged = await fetch(`${target.baseUrl}/api/raft/request-vote`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...forger.sign('POST', '/api/raft/request-vote', raw),
      },
      body: raw,
    });
    expect(forged.status).toBe(401);

    // A harmless signed request, captured and sent again: the replay is refused.
    const harmless = Buffer.from(JSON.stringify({ ...msg, term: 0 }));
    const member = new ClusterAuth('test-cluster-secret-0123456789', 'v2');
    const headers = {
      'content-type': 'application/json',
      ...member.sign('POST', '/api/raft/request-vote', harmless),
    };
    const first = await fetch(`${target.baseUrl}/api/raft/request-vote`, {
      method: 'POST',
      headers,
      body: harmless,
    });
    expect(first.status).toBe(202);
    const replay = await fetch(`${target.baseUrl}/api/raft/request-vote`, {
      method: 'POST',
      headers,
      body: harmless,
    });
    expect(replay.status).toBe(401);

    const malformed = await caller.post(target.baseUrl, '/api/raft/append-entries', {
      type: 'AppendEntries',
      term: 'x',
    });
    expect(malformed.status).toBe(400);

    const after = (await statusOf(target))!;
    expect(after.term).toBeLessThan(before.term + 50);
  });

  it('elects a new leader within 3 s of a kill -9 and keeps every acknowledged write once', async () => {
    let { node: leader } = await waitForLeader(nodes, specs, 10_000);
    const acked = new Set<string>();
    let attempted = 0;
    let stop = false;
    let current = leader;

    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const token = `w${w}-${i}`;
        attempted += 1;
        try {
          const r = await caller.post(
            current.baseUrl,
            '/api/raft/kv',
            { op: 'append', key: KEY, value: `${token},` },
            3_000,
          );
          if (r.status === 200) acked.add(token);
          else await new Promise((res) => setTimeout(res, 20));
        } catch {
          await new Promise((res) => setTimeout(res, 20));
        }
      }
    };
    const writers = Array.from({ length: 8 }, (_, w) => writer(w));
    await new Promise((r) => setTimeout(r, 2_000));
    const ackedBeforeKill = acked.size;
    expect(ackedBeforeKill).toBeGreaterThan(10);

    const victimSpec = specs.find((s) => s.port === leader.port)!;
    const killedAt = Date.now();
    leader.proc.kill('SIGKILL');
    await leader.exited;
    const survivors = nodes.filter((n) => n !== leader);
    const next = await waitForLeader(survivors, specs, 10_000);
    const electedAfterMs = Date.now() - killedAt;
    console.log(
      `new leader ${next.spec.address} ${electedAfterMs} ms after kill -9 of ${victimSpec.address}`,
    );
    expect(electedAfterMs).toBeLessThan(3_000);
    current = next.node;

    await new Promise((r) => setTimeout(r, 1_500));
    stop = true;
    await Promise.all(writers);
    expect(acked.size).toBeGreaterThan(ackedBeforeKill);

    // Restart the killed node on its own data directory; it must catch up.
    const restarted = await startSpec(victimSpec);
    nodes = nodes.map((n) => (n === leader ? restarted : n));
    await restarted.waitReady(60_000);
    leader = current;

    const final = await caller.post<{ value: string | null }>(
      current.baseUrl,
      '/api/raft/kv/read',
      { key: KEY },
    );
    expect(final.status).toBe(200);
    const committed = tokensOf(final.body.value);
    const t0 = Date.now();
    for (const n of nodes) {
      let local: string[] = [];
      while (Date.now() - t0 < 20_000) {
        const r = await caller.post<{ value: string | null }>(n.baseUrl, '/api/raft/kv/local', {
          key: KEY,
        });
        local = tokensOf(r.body.value);
        if (local.length >= committed.length) break;
        await new Promise((res) => setTimeout(res, 100));
      }
      expect(local).toEqual(committed);
    }
    expect(new Set(committed).size).toBe(committed.length);
    const missing = [...acked].filter((t) => !committed.includes(t));
    expect(missing).toEqual([]);
    console.log(
      `writes attempted ${attempted}, acknowledged ${acked.size}, committed ${committed.length}`,
    );
  });
});
