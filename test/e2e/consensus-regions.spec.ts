import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { voteSigningBytes, type UnsignedVote } from '@/core/consensus/vote';
import { signBytes } from '@/modules/gossip/ed25519';
import { signVoteBatch } from '@/modules/gossip/vote-batch.codec';
import { ClusterCaller, ClusterNodeSpec, planCluster, startSpec } from '../support/cluster';
import { createTestDatabase, TestDatabase } from '../support/db';
import { NodeProcess } from '../support/node-process';
import { waitFor } from '../support/wait';

/**
 * Issue 6, acceptance 2 and 3, on 3 real processes in 3 regions: the target is
 * unreachable from region-3's validator only (the NODE_ENV=test hook
 * TEST_UNREACHABLE_HOSTS, see src/modules/gossip/test-reachability.ts) — which is
 * also what a validator lying "DOWN" about a healthy site looks like — so there is
 * no global DOWN and exactly one REGION_DOWN for region-3. Then votes forged for
 * the honest validators (DOWN, signed with a stranger's key) are counted as
 * rejected and change nothing.
 */
jest.setTimeout(240_000);

const INTERVAL_MS = 2_000;
const caller = new ClusterCaller();

interface ConsensusStatus {
  node: { role: string; leaderId: string | null; nodeId: string };
  site: {
    verdict: string;
    lastRound: number;
    regions: Record<string, { verdict: string; alerted: boolean }>;
  } | null;
  entries: { index: number; round: number | null; verdict: string | null }[];
}

async function statusOf(node: NodeProcess, siteId: string): Promise<ConsensusStatus | null> {
  try {
    const r = await caller.get<ConsensusStatus>(node.baseUrl, `/api/consensus/status/${siteId}`);
    return r.status === 200 ? r.body : null;
  } catch {
    return null;
  }
}

describe('one region unreachable, one validator lying, forged votes', () => {
  let db: TestDatabase;
  let pg: Client;
  let root: string;
  let specs: ClusterNodeSpec[];
  let nodes: NodeProcess[] = [];
  let target: Server;
  let siteId: string;

  beforeAll(async () => {
    target = createServer((_req, res) => res.writeHead(200).end('ok'));
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const { port } = target.address() as { port: number };
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    root = mkdtempSync(join(tmpdir(), 'consensus-regions-'));
    specs = await planCluster(3, (i) => join(root, `n${i + 1}`), {
      DATABASE_URL: db.url,
      PING_INTERVAL_MS: String(INTERVAL_MS),
      PING_TIMEOUT_MS: '800',
      TALLY_DEADLINE_MS: '1500',
      MIN_VOTES: '2',
      ALLOW_PRIVATE_TARGETS: 'true',
    });
    // region-3's validator cannot reach the target (test hook, NODE_ENV=test only).
    specs[2].env.NODE_ENV = 'test';
    specs[2].env.TEST_UNREACHABLE_HOSTS = `127.0.0.1:${port}`;
    nodes = await Promise.all(specs.map(startSpec));
    await Promise.all(nodes.map((n) => n.waitReady(60_000)));

    const user = await pg.query<{ id: string }>(
      "INSERT INTO users (id, email, password_hash, updated_at) VALUES (gen_random_uuid(), 'regions@example.com', 'x', now()) RETURNING id",
    );
    const site = await pg.query<{ id: string }>(
      `INSERT INTO websites (id, owner_id, name, url, interval_ms, timeout_ms, expected_status, updated_at)
       VALUES (gen_random_uuid(), $1, 'target', $2, $3, 800, '{}', now()) RETURNING id`,
      [user.rows[0].id, `http://127.0.0.1:${port}/health`, INTERVAL_MS],
    );
    siteId = site.rows[0].id;
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop('SIGTERM').catch(() => undefined)));
    await pg?.end().catch(() => undefined);
    await db?.drop();
    await new Promise((r) => target?.close(r));
    if (root) rmSync(root, { recursive: true, force: true });
  });

  async function alerts() {
    const r = await pg.query<{ kind: string; region: string | null }>(
      'SELECT kind, region FROM alerts WHERE website_id = $1 ORDER BY created_at',
      [siteId],
    );
    return r.rows;
  }

  it('raises exactly one REGION_DOWN for region-3 and never a global DOWN', async () => {
    await waitFor('UP with region-3 DOWN on every node', 30_000, async () => {
      const all = await Promise.all(nodes.map((n) => statusOf(n, siteId)));
      return all.every(
        (s) => s?.site?.verdict === 'UP' && s.site.regions['region-3']?.verdict === 'DOWN',
      );
    });
    await waitFor('the REGION_DOWN alert', 10_000, async () => (await alerts()).length > 0);
    // Several more rounds: still one alert, still UP.
    await new Promise((r) => setTimeout(r, 4 * INTERVAL_MS));
    expect(await alerts()).toEqual([{ kind: 'REGION_DOWN', region: 'region-3' }]);
    for (const n of nodes) expect((await statusOf(n, siteId))?.site?.verdict).toBe('UP');
    const downs = await pg.query(
      "SELECT 1 FROM decisions WHERE website_id = $1 AND verdict = 'DOWN'",
      [siteId],
    );
    expect(downs.rowCount).toBe(0);
  });

  it('counts votes forged for the honest validators as rejected and decides nothing on them', async () => {
    const all = await Promise.all(nodes.map((n) => statusOf(n, siteId)));
    const li = all.findIndex((s) => s?.node.role === 'leader');
    expect(li).toBeGreaterThanOrEqual(0);
    const round = all[li]!.site!.lastRound;
    const stranger = generateKeyPairSync('ed25519');
    const forgedVote = (i: number, ahead: number): UnsignedVote => ({
      siteId,
      round: round + ahead,
      validatorId: `v${i + 1}`,
      region: `region-${i + 1}`,
      up: false,
      latencyMs: 800,
      failure: 'TIMEOUT',
      checkedAt: Date.now() - 100,
    });
    // The previous wire (one signature per vote) and the batch wire (one signature over
    // a Merkle root, a proof per vote), both signed with a stranger's key.
    const perVote = [1, 2, 3].flatMap((ahead) =>
      [0, 1].map((i) => {
        const v = forgedVote(i, ahead);
        return {
          hops: 0,
          vote: { ...v, signature: signBytes(stranger.privateKey, voteSigningBytes(v)) },
        };
      }),
    );
    const batched = [0, 1].flatMap((i) =>
      signVoteBatch(
        stranger.privateKey,
        `v${i + 1}`,
        `region-${i + 1}`,
        [4, 5, 6].map((ahead) => forgedVote(i, ahead)),
      ).map((vote) => ({ hops: 0, vote })),
    );
    const items = [...perVote, ...batched];
    // sent by a real member (signed with its own node key): the votes inside are what is forged
    const peer = specs[(li + 1) % 3];
    const res = await ClusterCaller.asNode(peer, specs[li]).post(
      nodes[li].baseUrl,
      '/api/simulate/gossip',
      { from: peer.address, items },
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ accepted: 0, rejected: { forged: items.length } });
    await new Promise((r) => setTimeout(r, 4 * INTERVAL_MS));
    for (const n of nodes) expect((await statusOf(n, siteId))?.site?.verdict).toBe('UP');
    expect(await alerts()).toEqual([{ kind: 'REGION_DOWN', region: 'region-3' }]);
  });
});
