import type { Decision } from '@/core/consensus/decision';
import { TallyService } from '@/modules/consensus/tally.service';
import { GossipService } from '@/modules/gossip/gossip.service';
import { SigningResultSink } from '@/modules/gossip/signing-result.sink';
import { ValidatorDirectory } from '@/modules/gossip/validator-directory';
import type { CheckResult } from '@/modules/ping/check-result';
import type { SiteSpec } from '@/modules/ping/site-source';
import { createTestApp, TestApp } from '../support/app';
import { freePort } from '../support/node-process';

/**
 * Two validators (two apps, two databases) over real HTTP: they join each other
 * through the signed join endpoint, then each one's check result travels as a
 * signed vote through gossip into the other's tally, and both decide the round.
 */
jest.setTimeout(120_000);

const SECRET = 'e2e-cluster-secret-for-two-nodes-0123';

async function until<T>(probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('two validators gossiping over HTTP', () => {
  const nodes: {
    id: string;
    region: string;
    port: number;
    app?: TestApp;
    decisions: Decision[];
  }[] = [
    { id: 'a', region: 'eu', port: 0, decisions: [] },
    { id: 'b', region: 'us', port: 0, decisions: [] },
  ];

  beforeAll(async () => {
    for (const n of nodes) n.port = await freePort();
    for (const [i, n] of nodes.entries()) {
      const other = nodes[1 - i];
      n.app = await createTestApp({
        PORT: String(n.port),
        VALIDATOR_ID: n.id,
        LOCATION: n.region,
        PEERS: `127.0.0.1:${other.port}`,
        CLUSTER_SECRET: SECRET,
        GOSSIP_INTERVAL_MS: '50',
      });
      await n.app.app.listen(n.port, '127.0.0.1');
      n.app.app.get(TallyService).onDecision((d) => n.decisions.push(d));
      // Health logs of a made-up site would only trouble the ping-log writer.
      n.app.app.get(SigningResultSink).delegateTo({ onResult: () => undefined });
    }
    // Both are listening now: one heartbeat each registers them with each other
    // (each announce is awaited, so after both cycles each knows the other).
    for (const n of nodes) await n.app!.app.get(ValidatorDirectory).cycle();
  });
  afterAll(async () => {
    await Promise.all(nodes.map(async (n) => n.app && (await n.app.close())));
  });

  it('knows the other validator through its signed join', () => {
    for (const n of nodes) {
      const roster = n.app!.app.get(ValidatorDirectory).roster();
      expect(roster).toEqual([
        { id: 'a', region: 'eu' },
        { id: 'b', region: 'us' },
      ]);
    }
  });

  it("turns each node's check result into a vote both tallies count", async () => {
    const site: SiteSpec = {
      id: 'site-two-nodes',
      url: 'http://127.0.0.1:9/',
      intervalMs: 60_000,
      timeoutMs: 1_000,
      expectedStatus: [],
    };
    const result: CheckResult = {
      up: false,
      latencyMs: 3,
      failure: 'CONNECT',
      error: 'ECONNREFUSED',
      phases: { total: 3 },
      checkedAt: Date.now(),
    };
    for (const n of nodes) n.app!.app.get(SigningResultSink).onResult(site, 7, result);
    for (const n of nodes) {
      const d = await until(() => n.decisions.find((x) => x.siteId === site.id), 5_000);
      expect(d).toMatchObject({
        round: 7,
        verdict: 'DOWN',
        regionVerdicts: { eu: 'DOWN', us: 'DOWN' },
        voters: ['a', 'b'],
        tally: { up: 0, down: 2, total: 2 },
      });
      const stats = n.app!.app.get(GossipService).stats();
      expect(stats).toMatchObject({ published: 1, accepted: 1 });
      expect(Object.values(stats.rejected).reduce((x, y) => x + y, 0)).toBe(0);
    }
  });
});
