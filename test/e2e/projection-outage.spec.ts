import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import {
  createServer as createTcpServer,
  connect,
  type Server as TcpServer,
  Socket,
} from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { SiteStatusMachine } from '@/core/consensus/site-status.machine';
import { partImage } from '@/modules/raft/replicated-state';
import { DiskRaftStorage } from '@/modules/raft/storage/disk-raft-storage';
import { decisionsCommand } from '@/modules/projection/raft-committed-log';
import { ClusterCaller, ClusterNodeSpec, planCluster, startSpec } from '../support/cluster';
import { createTestDatabase, insertSites, TestDatabase } from '../support/db';
import { NodeProcess } from '../support/node-process';
import { sleep, waitFor } from '../support/wait';

/**
 * PostgreSQL goes away (a TCP proxy in front of it is cut) while decisions keep
 * committing on 3 real node processes, with the leader SIGKILLed in the middle and a
 * group of sites going DOWN and back UP in the gap. Then the whole cluster is stopped
 * (its Raft logs read from disk: no snapshot may reach past the cursor of the cut),
 * PostgreSQL returns and the nodes restart: the `decisions` rows of the gap are exactly
 * the committed log's, and every transition of the gap has exactly one alert.
 * CI runs a small gap; `npm run test:outage` runs acceptance 10.2 (>= 50,000 decisions).
 */
jest.setTimeout(900_000);

const SITES = Number(process.env.OUTAGE_SITES ?? 400);
const INTERVAL_MS = Number(process.env.OUTAGE_INTERVAL_MS ?? 4_000);
const TARGET = Number(process.env.OUTAGE_DECISIONS ?? 2_000);
const FLAPPING = 20;
const caller = new ClusterCaller();

interface Status {
  node: { role: string; commitIndex: number };
  schedule: unknown;
  pipeline: { proposed: number };
  projector: { lost: unknown[] };
  compactionFloor: number;
}

/** A TCP proxy to PostgreSQL that can be cut (every connection dropped, new ones refused). */
class CuttableProxy {
  private readonly sockets = new Set<Socket>();
  private server: TcpServer | null = null;
  up = true;
  port = 0;

  async start(target: { host: string; port: number }): Promise<void> {
    this.server = createTcpServer((client) => {
      if (!this.up) return client.destroy();
      const upstream = connect(target.port, target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  cut(): void {
    this.up = false;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.up = true;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((r) => this.server?.close(r));
  }
}

async function statusOf(node: NodeProcess, siteId: string): Promise<Status | null> {
  try {
    const r = await caller.get<Status>(node.baseUrl, `/api/consensus/status/${siteId}`, 5_000);
    return r.status === 200 ? r.body : null;
  } catch {
    return null;
  }
}

describe(`PostgreSQL outage while >= ${TARGET} decisions commit, leader killed in the gap`, () => {
  let db: TestDatabase;
  let pg: Client;
  let root: string;
  let specs: ClusterNodeSpec[];
  let nodes: (NodeProcess | null)[] = [];
  let target: Server;
  let flapDown = false;
  const proxy = new CuttableProxy();
  let ids: string[] = [];

  beforeAll(async () => {
    target = createServer((req, res) => {
      const k = Number(/\/s(\d+)/.exec(req.url ?? '')?.[1] ?? -1);
      res.writeHead(flapDown && k >= 1 && k <= FLAPPING ? 503 : 200).end('ok');
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const { port } = target.address() as { port: number };
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    const direct = new URL(db.url);
    await proxy.start({ host: direct.hostname, port: Number(direct.port || 5432) });
    const viaProxy = new URL(db.url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    root = mkdtempSync(join(tmpdir(), 'projection-outage-'));
    specs = await planCluster(3, (i) => join(root, `n${i + 1}`), {
      DATABASE_URL: viaProxy.toString(),
      ALLOW_PRIVATE_TARGETS: 'true',
      PING_INTERVAL_MS: String(INTERVAL_MS),
      MAX_SITES_PER_USER: String(SITES),
      RAFT_SNAPSHOT_EVERY: '50',
    });
    nodes = await Promise.all(specs.map(startSpec));
    await Promise.all(nodes.map((n) => n!.waitReady(90_000)));
    ids = await insertSites(pg, {
      email: 'outage@example.com',
      count: SITES,
      urlPrefix: `http://127.0.0.1:${port}/s`,
      intervalMs: INTERVAL_MS,
      timeoutMs: 1_000,
    });
  });

  afterAll(async () => {
    await Promise.all(
      nodes.map((n) => (n ? n.stop('SIGTERM').catch(() => undefined) : Promise.resolve())),
    );
    await proxy.close();
    await pg?.end().catch(() => undefined);
    await db?.drop();
    await new Promise((r) => target?.close(r));
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const leader = async () =>
    (
      await waitFor(
        'a leader answering',
        60_000,
        async () => {
          for (const [i, n] of nodes.entries()) {
            if (!n) continue;
            const s = await statusOf(n, ids[0]);
            if (s?.node.role === 'leader') return { i, s };
          }
          return null;
        },
        250,
      )
    ).value;

  const cursor = async () =>
    Number(
      (await pg.query("SELECT last_index FROM projection_cursors WHERE name = 'decisions'")).rows[0]
        ?.last_index ?? 0,
    );

  it('projects every decision of the gap exactly once and alerts each transition once', async () => {
    const t0 = Date.now();
    await waitFor(
      'schedules committed and decisions projected',
      400_000,
      async () => {
        for (const n of nodes)
          for (const id of [ids[0], ids[SITES - 1]])
            if (!(await statusOf(n!, id))?.schedule) return false;
        return Number((await pg.query('SELECT count(*) c FROM decisions')).rows[0].c) >= SITES;
      },
      500,
    ).catch(async (e: Error) => {
      for (const n of nodes)
        console.log(JSON.stringify(await statusOf(n!, ids[0])), n!.output().slice(-2_000));
      throw e;
    });

    // The cut.
    const setupSeconds = Math.round((Date.now() - t0) / 1000);
    proxy.cut();
    const cutAt = Date.now();
    const c0 = await cursor();
    let committed = 0;
    const first = await leader();
    let li = first.i;
    let base = first.s.pipeline.proposed;
    const progress = async () => {
      const now = await leader();
      if (now.i !== li) {
        li = now.i;
        base = 0;
      }
      return committed + now.s.pipeline.proposed - base;
    };
    flapDown = true;
    let flapped = false;
    let killed = false;
    const figures: Record<string, unknown> = {
      setupSeconds,
      sites: SITES,
      intervalMs: INTERVAL_MS,
      cursorAtCut: c0,
    };
    for (;;) {
      const n = await progress();
      if (!flapped && n >= TARGET * 0.3) {
        flapDown = false; // the flapping sites recover inside the gap
        flapped = true;
      }
      if (!killed && n >= TARGET / 2) {
        const before = await leader();
        committed = n;
        nodes[before.i]!.proc.kill('SIGKILL');
        await nodes[before.i]!.exited;
        nodes[before.i] = null;
        killed = true;
        const after = await leader();
        li = after.i;
        base = after.s.pipeline.proposed;
        figures.killedLeader = `v${before.i + 1}`;
        figures.newLeader = `v${after.i + 1}`;
      }
      if (killed && flapped && n >= TARGET * 1.05) break;
      await sleep(1_000);
    }
    // Stop the cluster with PostgreSQL still away; its logs are the committed record.
    const end = (await leader()).s.node.commitIndex;
    figures.gapSeconds = Math.round((Date.now() - cutAt) / 1000);
    const dead = nodes.findIndex((n) => n === null);
    await Promise.all(nodes.map((n) => (n ? n.stop('SIGTERM') : Promise.resolve(null))));
    const logs = await Promise.all(
      specs.map(async (s, k) => {
        if (k === dead) return null;
        const storage = await DiskRaftStorage.open({ dir: join(s.dataDir, 'raft') });
        const state = await storage.load();
        await storage.close();
        return state;
      }),
    );
    const survivor = logs
      .filter((l) => l !== null)
      .sort((a, b) => (a.snapshot?.index ?? 0) - (b.snapshot?.index ?? 0))[0];
    const snapIndex = survivor.snapshot?.index ?? 0;
    figures.snapshotsAtStop = logs.map((l) => l?.snapshot?.index ?? null);
    // The floor held: no node compacted past what was projected when PostgreSQL went away.
    for (const l of logs) if (l) expect(l.snapshot?.index ?? 0).toBeLessThanOrEqual(c0);

    // What the committed log says about (snapshot, end]: the rows and the transitions.
    const machine = new SiteStatusMachine();
    if (survivor.snapshot) machine.restore(partImage(survivor.snapshot.data, 'decisions'));
    const want = new Set<string>();
    const transitions = new Set<string>();
    let gapDecisions = 0;
    for (const e of survivor.entries) {
      if (e.index <= snapIndex || e.index > end || e.type !== 'command') continue;
      const command = decisionsCommand(e.data);
      if (command === null) continue;
      const r = machine.apply({ ...e, data: command });
      const all = r.kind === 'batch' ? r.results : r.kind === 'decision' ? [r] : [];
      all.forEach((x, pos) => {
        if (x.kind !== 'decision') return;
        want.add(
          `${e.index}:${pos}:${x.decision.siteId}:${x.decision.round}:${x.decision.verdict}`,
        );
        if (e.index <= c0) return;
        gapDecisions++;
        for (const t of x.transitions) transitions.add(t.dedupKey);
      });
    }
    figures.gapDecisions = gapDecisions;
    figures.gapTransitions = transitions.size;
    expect(gapDecisions).toBeGreaterThanOrEqual(TARGET);

    // PostgreSQL returns; the cluster restarts and a leader resumes at the cursor.
    proxy.restore();
    const restartedAt = Date.now();
    nodes = await Promise.all(specs.map(startSpec));
    await Promise.all(nodes.map((n) => n!.waitReady(90_000)));
    figures.readyAfterRestartSeconds = Math.round((Date.now() - restartedAt) / 1000);
    const catchUp: string[] = [];
    await waitFor(
      'the gap projected',
      300_000,
      async () => {
        const c = await cursor();
        const l = await leader();
        catchUp.push(
          `${Math.round((Date.now() - restartedAt) / 1000)}s:${c}/${end}:${JSON.stringify(l.s.projector)}`,
        );
        return c >= end;
      },
      2_000,
    ).catch((e: Error) => {
      console.log(catchUp.join('\n'));
      for (const n of nodes) console.log(n!.output().slice(-3_000));
      throw e;
    });
    figures.caughtUpSeconds = Math.round((Date.now() - restartedAt) / 1000);
    figures.catchUp = catchUp.slice(-4);
    const rows = await pg.query<{ k: string }>(
      `SELECT log_index || ':' || batch_pos || ':' || website_id || ':' || round || ':' || verdict AS k
         FROM decisions WHERE log_index > $1 AND log_index <= $2`,
      [snapIndex, end],
    );
    const got = new Set(rows.rows.map((r) => r.k));
    expect(rows.rows).toHaveLength(got.size);
    expect([...want].filter((k) => !got.has(k))).toEqual([]);
    expect([...got].filter((k) => !want.has(k))).toEqual([]);
    const alerts = await pg.query<{ dedup_key: string }>(
      'SELECT dedup_key FROM alerts WHERE decision_log_index > $1 AND decision_log_index <= $2',
      [c0, end],
    );
    const keys = alerts.rows.map((a) => a.dedup_key);
    figures.gapAlerts = keys.length;
    expect(keys.length).toBe(new Set(keys).size);
    expect(new Set(keys)).toEqual(transitions);
    expect(transitions.size).toBeGreaterThanOrEqual(2 * FLAPPING);
    const leaderNow = await leader();
    expect(leaderNow.s.projector.lost).toEqual([]);
    for (const n of nodes) expect(n!.output()).not.toContain('no longer in the log');
    console.log(`projection outage figures: ${JSON.stringify(figures)}`);
  });
});
