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
 * What the consensus state machine accepts from the log. `forget-site` drops a
 * deleted site's status so the state stays bounded by the live site count.
 */
export type ConsensusCommand =
  | { readonly t: 'decision'; readonly decision: Decision }
  | { readonly t: 'forget-site'; readonly siteId: string };

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
  const d = cmd.decision;
  return JSON.stringify({
    v: VERSION,
    t: 'decision',
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
  });
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
  if (o.t !== 'decision') throw new CommandFormatError(`unknown command type ${String(o.t)}`);

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
  return { t: 'decision', decision };
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
