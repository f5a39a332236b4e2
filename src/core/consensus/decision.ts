/**
 * The hub's verdict for one (site, round), as it travels through the Raft log.
 * Invariant: encodeCommand is deterministic (fixed key order, sorted maps and
 * voters), so equal decisions are equal bytes on every node, and
 * decodeCommand(encodeCommand(c)) deep-equals c.
 */
import { NODE_ID_PATTERN, SITE_ID_PATTERN } from './vote';

export const VERDICTS = ['UP', 'DOWN', 'UNKNOWN'] as const;
export type Verdict = (typeof VERDICTS)[number];

export interface VoteCount {
  readonly up: number;
  readonly down: number;
  readonly total: number;
}

export interface DecisionTally extends VoteCount {
  /** votes the global verdict needed: ceil(QUORUM_THRESHOLD * total) */
  readonly quorum: number;
  readonly byRegion: Readonly<Record<string, VoteCount>>;
}

export interface Decision {
  readonly siteId: string;
  /** the site's URL at decision time, when the host knows it (alerts carry it) */
  readonly url?: string;
  readonly round: number;
  readonly verdict: Verdict;
  readonly regionVerdicts: Readonly<Record<string, Verdict>>;
  readonly tally: DecisionTally;
  /** validator ids whose votes were counted, sorted */
  readonly voters: readonly string[];
  /** hub clock when the round was finalized, epoch ms */
  readonly decidedAt: number;
}

/**
 * One site's schedule as the leader proposes it: the interval takes over at `anchorAt`
 * (the state machine derives the anchor round, see core/schedule/segment.ts), and the
 * confirmation counts the status machine applies.
 */
export interface ScheduleItem {
  readonly siteId: string;
  readonly intervalMs: number;
  readonly anchorAt: number;
  readonly downAfterRounds: number;
  readonly upAfterRounds: number;
}

/** Largest confirmation count a site may ask for (rounds). */
export const MAX_CONFIRM_ROUNDS = 10;

/**
 * What the consensus state machine accepts from the log. `forget-site` drops a
 * deleted site's status and schedule (and remembers the id, so late decisions are
 * ignored); `schedule` commits sites' intervals and confirmation counts.
 */
export type ConsensusCommand =
  | { readonly t: 'decision'; readonly decision: Decision }
  | { readonly t: 'forget-site'; readonly siteId: string }
  | { readonly t: 'schedule'; readonly items: readonly ScheduleItem[] }
  | { readonly t: 'batch'; readonly decisions: readonly Decision[] };

/** Decisions per DecisionBatch entry: one entry per hub tick, split beyond this. */
export const MAX_BATCH_DECISIONS = 500;

export class CommandFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandFormatError';
  }
}

const VERSION = 1;

/** Compact, deterministic JSON for the Raft log. */
export function encodeCommand(cmd: ConsensusCommand): string {
  if (cmd.t === 'forget-site') return JSON.stringify({ v: VERSION, t: cmd.t, siteId: cmd.siteId });
  if (cmd.t === 'schedule')
    return JSON.stringify({
      v: VERSION,
      t: cmd.t,
      items: cmd.items.map((i) => [
        i.siteId,
        i.intervalMs,
        i.anchorAt,
        i.downAfterRounds,
        i.upAfterRounds,
      ]),
    });
  if (cmd.t === 'batch')
    return JSON.stringify({ v: VERSION, t: 'batch', decisions: cmd.decisions.map(decisionBody) });
  return JSON.stringify({ v: VERSION, t: 'decision', ...decisionBody(cmd.decision) });
}

function decisionBody(d: Decision) {
  return {
    siteId: d.siteId,
    ...(d.url !== undefined ? { url: d.url } : {}),
    round: d.round,
    verdict: d.verdict,
    regionVerdicts: sortedRecord(d.regionVerdicts, (x) => x),
    tally: {
      up: d.tally.up,
      down: d.tally.down,
      total: d.tally.total,
      quorum: d.tally.quorum,
      byRegion: sortedRecord(d.tally.byRegion, (c) => ({ up: c.up, down: c.down, total: c.total })),
    },
    voters: [...d.voters].sort(),
    decidedAt: d.decidedAt,
  };
}

export function encodeDecision(d: Decision): string {
  return encodeCommand({ t: 'decision', decision: d });
}

/** Parses and validates a log entry's data; throws CommandFormatError on anything else. */
export function decodeCommand(data: string | Uint8Array): ConsensusCommand {
  const text = typeof data === 'string' ? data : new TextDecoder().decode(data);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new CommandFormatError('not JSON');
  }
  const o = asRecord(raw, 'command');
  if (o.v !== VERSION) throw new CommandFormatError(`unsupported version ${String(o.v)}`);
  if (o.t === 'forget-site') return { t: 'forget-site', siteId: siteIdOf(o.siteId) };
  if (o.t === 'schedule') return { t: 'schedule', items: scheduleItems(o.items) };
  if (o.t === 'batch') {
    const list: unknown = o.decisions;
    if (!Array.isArray(list) || list.length > MAX_BATCH_DECISIONS)
      throw new CommandFormatError(`decisions must be an array of at most ${MAX_BATCH_DECISIONS}`);
    return {
      t: 'batch',
      decisions: list.map((x, i) => decisionOf(asRecord(x, `decisions.${i}`))),
    };
  }
  if (o.t !== 'decision') throw new CommandFormatError(`unknown command type ${String(o.t)}`);
  return { t: 'decision', decision: decisionOf(o) };
}

function decisionOf(o: Record<string, unknown>): Decision {
  const tally = asRecord(o.tally, 'tally');
  const regionVerdicts = asRecord(o.regionVerdicts, 'regionVerdicts');
  const byRegion = asRecord(tally.byRegion, 'tally.byRegion');
  const voters: unknown = o.voters;
  if (!Array.isArray(voters) || !voters.every(isNodeId))
    throw new CommandFormatError('voters must be validator ids');
  const url: unknown = o.url;
  if (url !== undefined && (typeof url !== 'string' || url.length > 2048))
    throw new CommandFormatError('url must be a string');
  const decision: Decision = {
    siteId: siteIdOf(o.siteId),
    ...(typeof url === 'string' ? { url } : {}),
    round: count(o.round, 'round'),
    verdict: verdictOf(o.verdict, 'verdict'),
    regionVerdicts: sortedRecord(regionVerdicts, (v, k) => verdictOf(v, `regionVerdicts.${k}`)),
    tally: {
      ...voteCount(tally, 'tally'),
      quorum: count(tally.quorum, 'tally.quorum'),
      byRegion: sortedRecord(byRegion, (c, k) =>
        voteCount(asRecord(c, `byRegion.${k}`), `byRegion.${k}`),
      ),
    },
    voters: [...voters].sort(),
    decidedAt: count(o.decidedAt, 'decidedAt'),
  };
  return decision;
}

function scheduleItems(x: unknown): ScheduleItem[] {
  if (!Array.isArray(x)) throw new CommandFormatError('items must be an array');
  return x.map((row: unknown, k) => {
    if (!Array.isArray(row) || row.length !== 5)
      throw new CommandFormatError(`items.${k} must be [siteId, intervalMs, anchorAt, down, up]`);
    const [siteId, intervalMs, anchorAt, down, up] = row as unknown[];
    const item: ScheduleItem = {
      siteId: siteIdOf(siteId),
      intervalMs: count(intervalMs, `items.${k}.intervalMs`),
      anchorAt: count(anchorAt, `items.${k}.anchorAt`),
      downAfterRounds: count(down, `items.${k}.downAfterRounds`),
      upAfterRounds: count(up, `items.${k}.upAfterRounds`),
    };
    if (item.intervalMs < 1) throw new CommandFormatError(`items.${k}.intervalMs must be positive`);
    for (const n of [item.downAfterRounds, item.upAfterRounds])
      if (n < 1 || n > MAX_CONFIRM_ROUNDS)
        throw new CommandFormatError(
          `items.${k}: confirmation rounds must be in [1, ${MAX_CONFIRM_ROUNDS}]`,
        );
    return item;
  });
}

function sortedRecord<A, B>(
  rec: Readonly<Record<string, A>>,
  map: (a: A, key: string) => B,
): Record<string, B> {
  const out: Record<string, B> = {};
  for (const key of Object.keys(rec).sort()) {
    if (!NODE_ID_PATTERN.test(key))
      throw new CommandFormatError(`bad region "${key.slice(0, 64)}"`);
    out[key] = map(rec[key], key);
  }
  return out;
}

function asRecord(x: unknown, what: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x))
    throw new CommandFormatError(`${what} must be an object`);
  return x as Record<string, unknown>;
}

function count(x: unknown, what: string): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0)
    throw new CommandFormatError(`${what} must be a non-negative integer`);
  return x;
}

function voteCount(o: Record<string, unknown>, what: string): VoteCount {
  const c = {
    up: count(o.up, `${what}.up`),
    down: count(o.down, `${what}.down`),
    total: count(o.total, `${what}.total`),
  };
  if (c.up + c.down > c.total) throw new CommandFormatError(`${what}: up + down > total`);
  return c;
}

function verdictOf(x: unknown, what: string): Verdict {
  if (!(VERDICTS as readonly unknown[]).includes(x))
    throw new CommandFormatError(`${what} must be UP, DOWN or UNKNOWN`);
  return x as Verdict;
}

function siteIdOf(x: unknown): string {
  if (typeof x !== 'string' || !SITE_ID_PATTERN.test(x))
    throw new CommandFormatError('siteId must be a site id');
  return x;
}

function isNodeId(x: unknown): x is string {
  return typeof x === 'string' && NODE_ID_PATTERN.test(x);
}
