/**
 * bench:gossip: how many votes per second one node's gossip layer can take in on one
 * core: the real GossipEngine (dedup, age and replay checks, forwarding queues) with
 * real Ed25519 signatures checked per vote, fed 500-vote batches from 5 validators.
 * Compared in the same run against the engine alone (signatures not checked) and
 * against bare Ed25519 verification, as ratios. Appends to bench/RESULTS.md.
 * Env: BENCH_VOTES (100000), BENCH_RESULTS.
 */
import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { voteSigningBytes, type Vote } from '@/core/consensus/vote';
import { GossipEngine, GOSSIP_LIMITS } from '@/core/gossip/gossip-engine';
import type { VoteVerifier } from '@/core/gossip/gossip.types';
import { SeededRandom } from '@/core/ports/seeded-random';
import { signBytes, verifyBytes } from '@/modules/gossip/ed25519';
import { machineFacts, recordResults } from './support/results';

const VOTES = Number(process.env.BENCH_VOTES ?? 100_000);
const RESULTS = process.env.BENCH_RESULTS ?? 'bench/RESULTS.md';
const VALIDATORS = 5;
const BATCH = GOSSIP_LIMITS.maxBatch;

interface Keys {
  id: string;
  priv: KeyObject;
  pub: KeyObject;
}

function makeVotes(keys: Keys[], now: number): Vote[] {
  const votes: Vote[] = [];
  for (let i = 0; votes.length < VOTES; i++) {
    const k = keys[i % keys.length];
    const unsigned = {
      siteId: `site-${Math.floor(i / keys.length) % 50_000}`,
      round: Math.floor(i / (keys.length * 50_000)) + 1,
      validatorId: k.id,
      region: `region-${k.id}`,
      up: i % 7 !== 0,
      latencyMs: 20 + (i % 300),
      httpStatus: 200,
      checkedAt: now - 1_000,
    };
    votes.push({ ...unsigned, signature: signBytes(k.priv, voteSigningBytes(unsigned)) });
  }
  return votes;
}

function run(label: string, votes: Vote[], verifier: VoteVerifier, now: number) {
  const clock = { now: () => now };
  let delivered = 0;
  const engine = new GossipEngine(
    clock,
    new SeededRandom(1),
    verifier,
    {
      self: 'bench:1',
      fanout: 2,
      rounds: 1,
      maxBatch: BATCH,
      maxPending: GOSSIP_LIMITS.maxPending,
      maxPeerQueue: GOSSIP_LIMITS.maxPeerQueue,
      maxVoteAgeMs: 600_000,
      maxFutureMs: 30_000,
      seenCapacity: Math.max(GOSSIP_LIMITS.seenCapacity, VOTES * 2),
    },
    () => delivered++,
  );
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < votes.length; i += BATCH) {
    engine.receive({
      from: `peer:${i % 3}`,
      items: votes.slice(i, i + BATCH).map((vote) => ({ hops: 0, vote })),
    });
    // Drain forwarding queues as a node's gossip tick would (messages are not sent here).
    for (const m of engine.tick(['peer:0', 'peer:1', 'peer:2'])) engine.ack(m.to, true);
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (delivered !== votes.length)
    throw new Error(`${label}: delivered ${delivered} of ${votes.length}`);
  return {
    label,
    perSec: votes.length / (ms / 1000),
    cpuUsPerVote: (cpu.user + cpu.system) / votes.length,
  };
}

function main(): void {
  const now = Date.now();
  const keys: Keys[] = Array.from({ length: VALIDATORS }, (_, i) => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    return { id: `v${i + 1}`, priv: privateKey, pub: publicKey };
  });
  const byId = new Map(keys.map((k) => [k.id, k.pub]));
  const votes = makeVotes(keys, now);
  const ed25519: VoteVerifier = {
    verify: (v) => {
      const pub = byId.get(v.validatorId);
      if (!pub) return { ok: false, reason: 'unknown-validator' };
      return verifyBytes(pub, voteSigningBytes(v), v.signature ?? '')
        ? { ok: true }
        : { ok: false, reason: 'forged' };
    },
  };
  const trusting: VoteVerifier = { verify: () => ({ ok: true }) };

  run('warm-up', votes.slice(0, 5_000), ed25519, now);
  const full = run('engine + Ed25519 verification', votes, ed25519, now);
  const bare = run('engine alone (no signature check)', votes, trusting, now);
  const t0 = performance.now();
  for (const v of votes) verifyBytes(byId.get(v.validatorId)!, voteSigningBytes(v), v.signature!);
  const verifyOnly = {
    label: 'Ed25519 verification alone',
    perSec: votes.length / ((performance.now() - t0) / 1000),
    cpuUsPerVote: NaN,
  };

  const rows = [full, bare, verifyOnly];
  const table = [
    `## bench:gossip — ${new Date().toISOString()}`,
    '',
    machineFacts(),
    `${VOTES} distinct signed votes from ${VALIDATORS} validators, received in ${BATCH}-vote messages by one`,
    `GossipEngine (dedup, age/replay checks, forwarding to 2 of 3 peers), single thread. This is the ceiling of`,
    `one node's gossip ingest; HTTP framing and JSON parsing of the messages come on top.`,
    '',
    '| path | votes/s | CPU µs/vote | ratio to the full path |',
    '|---|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.label} | ${r.perSec.toFixed(0)} | ${Number.isFinite(r.cpuUsPerVote) ? r.cpuUsPerVote.toFixed(1) : '-'} | ${(r.perSec / full.perSec).toFixed(2)} |`,
    ),
    '',
  ].join('\n');
  recordResults(RESULTS, table);
}

main();
