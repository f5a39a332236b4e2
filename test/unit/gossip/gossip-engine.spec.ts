import type { Vote } from '@/core/consensus/vote';
import { GossipEngine, type GossipOptions } from '@/core/gossip/gossip-engine';
import type { GossipItem } from '@/core/gossip/gossip.types';
import { SeededRandom } from '@/core/ports/seeded-random';
import { FakeClock } from '../../fakes/fake-clock';
import { FakeSigner } from './support/fake-signer';

/** One node's gossip engine: admission checks, forwarding, batching and backpressure. */
const T0 = 1_700_000_000_000;

function setup(overrides: Partial<GossipOptions> = {}) {
  const clock = new FakeClock(T0);
  const signer = new FakeSigner().register('a', 'eu').register('b', 'us').register('c', 'ap');
  const delivered: Vote[] = [];
  const engine = new GossipEngine(
    clock,
    new SeededRandom(7),
    signer,
    {
      self: 'n0:1',
      fanout: 2,
      rounds: 1,
      maxBatch: 100,
      maxPending: 1_000,
      maxPeerQueue: 1_000,
      maxVoteAgeMs: 60_000,
      maxFutureMs: 5_000,
      seenCapacity: 10_000,
      ...overrides,
    },
    (v) => delivered.push(v),
  );
  const vote = (validatorId = 'a', round = 1, up = true, siteId = 's1'): Vote =>
    signer.sign({
      siteId,
      round,
      validatorId,
      region: { a: 'eu', b: 'us', c: 'ap' }[validatorId] ?? 'eu',
      up,
      latencyMs: 12,
      ...(up ? { httpStatus: 200 } : { failure: 'TIMEOUT' as const }),
      checkedAt: clock.now() - 100,
    });
  const items = (...votes: Vote[]): GossipItem[] => votes.map((v) => ({ hops: 0, vote: v }));
  return { clock, signer, engine, delivered, vote, items };
}

const PEERS = ['n1:1', 'n2:1', 'n3:1', 'n4:1'];

describe('GossipEngine admission', () => {
  it('accepts a validly signed vote once and hands it to the tally once', () => {
    const { engine, delivered, vote, items } = setup();
    const v = vote();
    expect(engine.receive({ from: 'n1:1', items: items(v) })).toEqual({
      accepted: 1,
      rejected: {},
    });
    expect(engine.receive({ from: 'n2:1', items: items(v) })).toEqual({
      accepted: 0,
      rejected: { replayed: 1 },
    });
    expect(delivered).toEqual([v]);
  });

  it('drops and counts unsigned, forged, unknown, stale, future, conflicting and malformed votes', () => {
    const { engine, delivered, vote, items, clock, signer } = setup();
    const good = vote('a', 1, true);
    const unsigned: Vote = { ...vote('b'), signature: undefined };
    const emptySig: Vote = { ...vote('b'), signature: '' };
    const tampered: Vote = { ...vote('b', 1, true), up: false };
    const otherKey = signer.sign({ ...vote('c'), signature: undefined }, 'stolen');
    const wrongRegion = signer.sign({ ...vote('c'), region: 'eu', signature: undefined });
    const unknown = signer.sign({ ...vote('z'), validatorId: 'z' }, 'secret-z');
    const old = signer.sign({ ...vote('a', 2), checkedAt: clock.now() - 60_001 });
    const future = signer.sign({ ...vote('a', 3), checkedAt: clock.now() + 5_001 });
    const malformed = { ...vote('a', 4), round: -1 } as Vote;
    const report = engine.receive({
      from: 'n1:1',
      items: items(
        good,
        unsigned,
        emptySig,
        tampered,
        otherKey,
        wrongRegion,
        unknown,
        old,
        future,
        malformed,
      ),
    });
    expect(report).toEqual({
      accepted: 1,
      rejected: {
        unsigned: 2,
        forged: 3,
        'unknown-validator': 1,
        'too-old': 1,
        future: 1,
        malformed: 1,
      },
    });
    // A validator signing a second, different vote for the same round: the first one stands.
    const flip = vote('a', 1, false);
    expect(engine.receive({ from: 'n1:1', items: items(flip) }).rejected).toEqual({
      conflicting: 1,
    });
    expect(delivered).toEqual([good]);
    expect(engine.stats().rejected).toMatchObject({ forged: 3, conflicting: 1, replayed: 0 });
  });

  it('a forged copy arriving first does not shadow the real vote', () => {
    const { engine, delivered, vote, items } = setup();
    const real = vote('a');
    const forged: Vote = { ...real, up: false };
    engine.receive({ from: 'n1:1', items: items(forged) });
    expect(engine.receive({ from: 'n2:1', items: items(real) }).accepted).toBe(1);
    expect(delivered).toEqual([real]);
  });

  it('refuses items beyond the per-message cap', () => {
    const { engine, vote, items } = setup({ maxBatch: 2 });
    const r = engine.receive({ from: 'n1:1', items: items(vote('a'), vote('b'), vote('c')) });
    expect(r).toEqual({ accepted: 2, rejected: { overflow: 1 } });
  });

  it('a replay after the seen-set forgot it is too old anyway', () => {
    const { engine, vote, items, clock } = setup();
    const v = vote();
    engine.receive({ from: 'n1:1', items: items(v) });
    clock.advance(65_000);
    engine.tick([]);
    expect(engine.stats().seen).toBe(0);
    expect(engine.receive({ from: 'n1:1', items: items(v) }).rejected).toEqual({ 'too-old': 1 });
  });
});

describe('GossipEngine push and forwarding', () => {
  it('publishes own votes locally and pushes them to fanout random peers plus the hub', () => {
    const { engine, delivered, vote } = setup();
    const v = vote();
    engine.publish(v);
    expect(delivered).toEqual([v]);
    const out = engine.tick(PEERS, 'n9:1');
    expect(out.map((o) => o.to)).toContain('n9:1');
    expect(out).toHaveLength(3);
    expect(new Set(out.map((o) => o.to)).size).toBe(3);
    for (const o of out) expect(o.message).toEqual({ from: 'n0:1', items: [{ hops: 0, vote: v }] });
    expect(engine.tick(PEERS)).toEqual([]);
  });

  it('never sends to itself; with no peers, nothing is queued', () => {
    const { engine, vote } = setup({ fanout: 10 });
    engine.publish(vote());
    expect(engine.tick(['n0:1'], 'n0:1')).toEqual([]);
    expect(engine.stats()).toMatchObject({ pending: 0, queued: 0 });
  });

  it('forwards received votes GOSSIP_ROUNDS hops, never back to the sender', () => {
    const { engine, vote } = setup({ rounds: 2, fanout: 4 });
    engine.receive({ from: 'n1:1', items: [{ hops: 0, vote: vote('a') }] });
    engine.receive({ from: 'n2:1', items: [{ hops: 1, vote: vote('b') }] });
    engine.receive({ from: 'n3:1', items: [{ hops: 2, vote: vote('c') }] });
    const out = engine.tick(PEERS);
    const sent = Object.fromEntries(
      out.map((o) => [o.to, o.message.items.map((i) => `${i.vote.validatorId}@${i.hops}`)]),
    );
    expect(sent).toEqual({
      'n1:1': ['b@2'],
      'n2:1': ['a@1'],
      'n3:1': ['a@1', 'b@2'],
      'n4:1': ['a@1', 'b@2'],
    });
    expect(engine.stats().forwarded).toBe(2);
  });

  it('GOSSIP_ROUNDS=0 never forwards', () => {
    const { engine, vote, items } = setup({ rounds: 0 });
    engine.receive({ from: 'n1:1', items: items(vote()) });
    expect(engine.tick(PEERS)).toEqual([]);
  });

  it('one message in flight per peer; a slow peer backs up to its cap, dropping the oldest', () => {
    const { engine, vote } = setup({ fanout: 1, maxBatch: 2, maxPeerQueue: 3 });
    for (let r = 1; r <= 3; r++) engine.publish(vote('a', r));
    const [first] = engine.tick(['n1:1']);
    expect(first.message.items.map((i) => i.vote.round)).toEqual([1, 2]);
    for (let r = 4; r <= 8; r++) engine.publish(vote('a', r));
    expect(engine.tick(['n1:1'])).toEqual([]); // still in flight
    expect(engine.stats()).toMatchObject({ queued: 3, inFlight: 1 });
    expect(engine.stats().dropped.peerQueue).toBe(3); // rounds 3, 4, 5 dropped
    engine.ack('n1:1', true);
    const [second] = engine.tick(['n1:1']);
    expect(second.message.items.map((i) => i.vote.round)).toEqual([6, 7]);
    engine.ack('n1:1', false);
    expect(engine.stats()).toMatchObject({ sendFailures: 1, dropped: { sendFailed: 2 } });
    expect(engine.tick(['n1:1'])[0].message.items.map((i) => i.vote.round)).toEqual([8]);
  });

  it('bounds fresh votes between ticks, dropping the oldest', () => {
    const { engine, vote } = setup({ maxPending: 2, fanout: 1 });
    for (let r = 1; r <= 5; r++) engine.publish(vote('a', r));
    expect(engine.stats().dropped.pending).toBe(3);
    const [out] = engine.tick(['n1:1']);
    expect(out.message.items.map((i) => i.vote.round)).toEqual([4, 5]);
  });

  it('forgets queues of peers that left the list', () => {
    const { engine, vote } = setup({ fanout: 2 });
    engine.publish(vote('a', 1));
    engine.tick(['n1:1', 'n2:1']);
    engine.publish(vote('a', 2));
    engine.tick(['n1:1', 'n2:1']); // both in flight: queued
    expect(engine.stats().queued).toBe(2);
    engine.tick(['n1:1']);
    expect(engine.stats()).toMatchObject({ queued: 1, dropped: { peerQueue: 1 } });
  });

  it('picks peers from the seeded Random: same seed, same choices', () => {
    const run = () => {
      const { engine, vote } = setup({ fanout: 2 });
      const picks: string[] = [];
      for (let r = 1; r <= 20; r++) {
        engine.publish(vote('a', r));
        for (const o of engine.tick(PEERS)) {
          picks.push(o.to);
          engine.ack(o.to, true);
        }
      }
      return picks;
    };
    expect(run()).toEqual(run());
    expect(new Set(run())).toEqual(new Set(PEERS));
  });
});
