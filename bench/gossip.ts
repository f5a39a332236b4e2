/**
 * bench:gossip: how many votes per second one node's gossip layer can take in on one
 * core: the real GossipEngine (dedup, age and replay checks, forwarding queues) with
 * the real RegistryVoteVerifier checking every vote, fed 500-vote messages from 5
 * validators. Votes are signed as validators sign them: one Ed25519 signature over
 * the Merkle root of each validator's tick (BENCH_TICK_VOTES votes), a proof per
 * vote. Compared in the same run against the engine alone (signatures not checked),
 * against per-vote signatures (the previous wire) and bare Ed25519 verification, as
 * ratios. Appends to bench/RESULTS.md.
 * Env: BENCH_VOTES (100000), BENCH_TICK_VOTES (100: 10,000 sites at 20 s, 200 ms ticks), BENCH_RESULTS.
 */
import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { publicKeyToBase64 } from '@/modules/gossip/ed25519';
import { voteSigningBytes, type UnsignedVote, type Vote } from '@/core/consensus/vote';
import { GossipEngine, GOSSIP_LIMITS } from '@/core/gossip/gossip-engine';
import type { GossipVote, VoteVerifier } from '@/core/gossip/gossip.types';
import { SeededRandom } from '@/core/ports/seeded-random';
import { signBytes, verifyBytes } from '@/modules/gossip/ed25519';
import { RegistryVoteVerifier } from '@/modules/gossip/registry-vote-verifier';
import { signVoteBatch } from '@/modules/gossip/vote-batch.codec';
import { machineFacts, recordResults } from './support/results';

const VOTES = Number(process.env.BENCH_VOTES ?? 100_000);
const TICK_VOTES = Number(process.env.BENCH_TICK_VOTES ?? 100);
const RESULTS = process.env.BENCH_RESULTS ?? 'bench/RESULTS.md';
const VALIDATORS = 5;
const BATCH = GOSSIP_LIMITS.maxBatch;

interface Keys {
  id: string;
  priv: KeyObject;
  pub: KeyObject;
}

function unsignedVotes(keys: Keys[], now: number, count: number): UnsignedVote[] {
  const votes: UnsignedVote[] = [];
  for (let i = 0; votes.length < count; i++) {
    const k = keys[i % keys.length];
    votes.push({
      siteId: `site-${Math.floor(i / keys.length) % 50_000}`,
      round: Math.floor(i / (keys.length * 50_000)) + 1,
      validatorId: k.id,
      region: `region-${k.id}`,
      up: i % 7 !== 0,
      latencyMs: 20 + (i % 300),
      httpStatus: 200,
      checkedAt: now - 1_000,
    });
  }
  return votes;
}

/** Each validator signs TICK_VOTES of its votes at a time; messages interleave the batches. */
function batchSigned(keys: Keys[], votes: UnsignedVote[]): GossipVote[] {
  const out: GossipVote[] = [];
  const byValidator = new Map(keys.map((k) => [k.id, [] as UnsignedVote[]]));
  const flush = (k: Keys) => {
    const mine = byValidator.get(k.id)!;
    if (mine.length > 0) out.push(...signVoteBatch(k.priv, k.id, `region-${k.id}`, mine));
    byValidator.set(k.id, []);
  };
  for (const v of votes) {
    const mine = byValidator.get(v.validatorId)!;
    mine.push(v);
    if (mine.length === TICK_VOTES) flush(keys.find((k) => k.id === v.validatorId)!);
  }
  for (const k of keys) flush(k);
  return out;
}

function perVoteSigned(keys: Keys[], votes: UnsignedVote[]): Vote[] {
  const byId = new Map(keys.map((k) => [k.id, k.priv]));
  return votes.map((v) => ({
    ...v,
    signature: signBytes(byId.get(v.validatorId)!, voteSigningBytes(v)),
  }));
}

function registry(keys: Keys[]): RegistryVoteVerifier {
  const verifier = new RegistryVoteVerifier({ findByIds: async () => [] });
  for (const k of keys)
    verifier.remember({ id: k.id, region: `region-${k.id}`, publicKey: publicKeyToBase64(k.pub) });
  return verifier;
}

function run(label: string, votes: GossipVote[], verifier: VoteVerifier, now: number) {
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
  const plain = unsignedVotes(keys, now, VOTES);
  const votes = batchSigned(keys, plain);
  // The previous wire (one signature per vote) on a tenth of the votes: it is 40x slower.
  const legacyCount = Math.max(5_000, Math.floor(VOTES / 10));
  const legacy = perVoteSigned(keys, plain.slice(0, legacyCount));
  const trusting: VoteVerifier = { verify: () => ({ ok: true }) };

  run('warm-up', votes.slice(0, 5_000), registry(keys), now);
  const verifier = registry(keys);
  const full = run(
    `engine + batch-signed votes verified (1 Ed25519 per ${TICK_VOTES} votes, Merkle proof per vote)`,
    votes,
    verifier,
    now,
  );
  const checks = verifier.batchSignatureChecks;
  const bare = run('engine alone (no signature check)', votes, trusting, now);
  const perVote = run(
    `engine + per-vote Ed25519 (previous wire, ${legacyCount} votes)`,
    legacy,
    registry(keys),
    now,
  );
  const t0 = performance.now();
  for (const v of legacy) verifyBytes(byId.get(v.validatorId)!, voteSigningBytes(v), v.signature!);
  const verifyOnly = {
    label: `Ed25519 verification alone, per vote (${legacyCount} votes)`,
    perSec: legacy.length / ((performance.now() - t0) / 1000),
    cpuUsPerVote: NaN,
  };
  if (checks > Math.ceil(VOTES / TICK_VOTES) + VALIDATORS)
    throw new Error(`${checks} signature checks for ${VOTES} votes: batches are not amortised`);

  const rows = [full, bare, perVote, verifyOnly];
  const table = [
    `## bench:gossip — ${new Date().toISOString()}`,
    '',
    machineFacts(),
    `${VOTES} distinct votes from ${VALIDATORS} validators, each validator signing ${TICK_VOTES} votes per batch`,
    `(one Ed25519 signature over a Merkle root; ${checks} signature checks in the full run), received in`,
    `${BATCH}-vote messages by one GossipEngine with the real RegistryVoteVerifier (dedup, age/replay checks,`,
    `forwarding to 2 of 3 peers), single thread. This is the ceiling of one node's gossip ingest; HTTP framing`,
    `and JSON parsing of the messages come on top. Target: >= 50,000 votes/s with signature checks on one core;`,
    `on this shared machine the wall-clock rate also counts time the other processes held the core, so the`,
    `per-core figure is votes per CPU-second of this (single-threaded) process.`,
    '',
    '| path | votes/s (wall) | CPU µs/vote | votes per CPU-second (one core) | ratio to the full path (CPU) |',
    '|---|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.label} | ${r.perSec.toFixed(0)} | ${Number.isFinite(r.cpuUsPerVote) ? r.cpuUsPerVote.toFixed(1) : '-'} | ${Number.isFinite(r.cpuUsPerVote) ? (1e6 / r.cpuUsPerVote).toFixed(0) : '-'} | ${Number.isFinite(r.cpuUsPerVote) ? (full.cpuUsPerVote / r.cpuUsPerVote).toFixed(2) : '-'} |`,
    ),
    '',
  ].join('\n');
  recordResults(RESULTS, table);
}

main();
