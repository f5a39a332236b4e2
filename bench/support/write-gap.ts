/**
 * The write gap of a leader stop: writers stream unique tokens into a 3-member
 * cluster, following redirects; the leader is sent SIGTERM or SIGKILL; the
 * largest gap between two consecutive acknowledged writes around the stop is
 * what clients felt. Afterwards the stopped member is restarted and every
 * acknowledged token must be on every member.
 */

export interface GapTarget {
  readonly name: string;
  readonly members: number;
  /** one write; `hint` is the member the answer names as leader, if any */
  put(member: number, writer: number, token: string): Promise<{ ok: boolean; hint?: number }>;
  isLeader(member: number): Promise<boolean>;
  /** sends the signal and waits for the process to exit */
  stop(member: number, signal: NodeJS.Signals): Promise<void>;
  restart(member: number): Promise<void>;
  /** every token member `member` holds locally */
  tokens(member: number, writers: number): Promise<Set<string>>;
}

export interface GapResult {
  target: string;
  signal: NodeJS.Signals;
  largestGapMs: number;
  /** ms from the signal to the first write acknowledged by another member */
  firstAckAfterMs: number;
  acked: number;
  /** acknowledged tokens missing on some member after the restart */
  missing: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function findLeader(t: GapTarget, timeoutMs = 10_000): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    for (let i = 0; i < t.members; i++) if (await t.isLeader(i)) return i;
    await sleep(25);
  }
  throw new Error(`${t.name}: no leader within ${timeoutMs} ms`);
}

export async function measureGap(
  t: GapTarget,
  signal: NodeJS.Signals,
  opts: { writers?: number; beforeMs?: number; afterMs?: number } = {},
): Promise<GapResult> {
  const writers = opts.writers ?? 16;
  const leader = await findLeader(t);
  const acks: { at: number; member: number }[] = [];
  const tokens: string[] = [];
  let stopped = false;
  let down = -1;
  const writer = async (w: number) => {
    let member = leader;
    for (let i = 0; !stopped; i++) {
      const token = `w${w}-${i}`;
      let r: { ok: boolean; hint?: number };
      try {
        r = member === down ? { ok: false } : await t.put(member, w, token);
      } catch {
        r = { ok: false };
      }
      if (r.ok) {
        acks.push({ at: performance.now(), member });
        tokens.push(token);
        continue;
      }
      member = r.hint !== undefined && r.hint !== down ? r.hint : (member + 1) % t.members;
      await sleep(2);
    }
  };
  const running = Array.from({ length: writers }, (_, w) => writer(w));
  await sleep(opts.beforeMs ?? 2_000);
  const stopAt = performance.now();
  const exited = t.stop(leader, signal);
  down = leader;
  await sleep(opts.afterMs ?? 3_000);
  const endAt = performance.now();
  stopped = true;
  await Promise.all(running);
  await exited;

  const times = acks.map((a) => a.at).sort((a, b) => a - b);
  let largest = 0;
  for (let k = 1; k < times.length; k++) {
    if (times[k] < stopAt - 200) continue;
    largest = Math.max(largest, times[k] - times[k - 1]);
  }
  // Writes that never resumed are a gap up to the end of the window.
  if (times.length > 0) largest = Math.max(largest, endAt - times[times.length - 1]);
  const after = acks.filter((a) => a.at > stopAt && a.member !== leader).map((a) => a.at);
  const firstAckAfterMs = after.length > 0 ? Math.min(...after) - stopAt : Infinity;

  await t.restart(leader);
  let missing = tokens.length;
  const t0 = Date.now();
  while (Date.now() - t0 < 30_000) {
    const held = await Promise.all(
      Array.from({ length: t.members }, (_, i) => t.tokens(i, writers).catch(() => new Set())),
    );
    missing = tokens.filter((tok) => held.some((h) => !h.has(tok))).length;
    if (missing === 0) break;
    await sleep(200);
  }
  return {
    target: t.name,
    signal,
    largestGapMs: largest,
    firstAckAfterMs,
    acked: tokens.length,
    missing,
  };
}
