/**
 * Login attempts are counted BEFORE the password is hashed, so concurrent guesses
 * cannot all slip in while the first ones are still hashing. Three keys:
 *  - the IP: a fixed window (20 per minute) against sprays over many accounts;
 *  - the (account, IP) pair: after FREE_FAILURES failures, each further try waits
 *    twice as long as the last (1 s, 2 s, ... up to 15 min): an attacker is slowed to
 *    a trickle, while the owner on another IP is not affected at all;
 *  - the account from IPs it never logged in from: a higher ceiling against a
 *    distributed attack; IPs the owner logged in from before are exempt.
 * A success clears its pair. All state is in memory per node and bounded (LRU).
 */
import { LRUCache } from 'lru-cache';

export const IP_LIMIT = 20;
export const IP_WINDOW_MS = 60_000;
export const FREE_FAILURES = 10;
export const MAX_DELAY_MS = 15 * 60_000;
export const ACCOUNT_LIMIT = 100;
export const ACCOUNT_WINDOW_MS = 15 * 60_000;

interface Pair {
  failures: number;
  /** attempts started and not finished: they count as failures until they succeed */
  inFlight: number;
  nextAllowedAt: number;
  lastAt: number;
}

export class LoginThrottle {
  private readonly ips = new LRUCache<string, { start: number; count: number }>({ max: 100_000 });
  private readonly pairs = new LRUCache<string, Pair>({ max: 200_000 });
  private readonly accounts = new LRUCache<string, { start: number; count: number }>({
    max: 100_000,
  });
  private readonly knownIps = new LRUCache<string, true>({ max: 200_000 });

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Reserves an attempt, or says how many seconds to wait. The returned finish()
   * must be called with the outcome once the password was checked.
   */
  begin(account: string, ip: string): { waitSec: number } | { finish: (ok: boolean) => void } {
    const t = this.now();
    const ipw = this.window(this.ips, ip, IP_WINDOW_MS, t);
    if (ipw.count >= IP_LIMIT) return { waitSec: secs(ipw.start + IP_WINDOW_MS - t) };
    const key = `${account}\n${ip}`;
    const pair = this.pairs.get(key) ?? { failures: 0, inFlight: 0, nextAllowedAt: 0, lastAt: t };
    if (t - pair.lastAt > MAX_DELAY_MS * 2) Object.assign(pair, { failures: 0, nextAllowedAt: 0 });
    const counted = pair.failures + pair.inFlight;
    if (counted >= FREE_FAILURES && t < pair.nextAllowedAt)
      return { waitSec: secs(pair.nextAllowedAt - t) };
    if (counted >= FREE_FAILURES && pair.inFlight > 0) return { waitSec: 1 };
    const known = this.knownIps.has(key);
    const acc = this.window(this.accounts, account, ACCOUNT_WINDOW_MS, t);
    if (!known && acc.count >= ACCOUNT_LIMIT)
      return { waitSec: secs(acc.start + ACCOUNT_WINDOW_MS - t) };

    ipw.count += 1;
    pair.inFlight += 1;
    pair.lastAt = t;
    this.pairs.set(key, pair);
    let done = false;
    return {
      finish: (ok: boolean) => {
        if (done) return;
        done = true;
        pair.inFlight -= 1;
        if (ok) {
          pair.failures = 0;
          pair.nextAllowedAt = 0;
          this.knownIps.set(key, true);
          return;
        }
        pair.failures += 1;
        if (!known) acc.count += 1;
        const over = pair.failures - FREE_FAILURES;
        if (over >= 0)
          pair.nextAllowedAt = this.now() + Math.min(MAX_DELAY_MS, 1000 * 2 ** Math.min(over, 20));
      },
    };
  }

  private window(
    cache: LRUCache<string, { start: number; count: number }>,
    key: string,
    windowMs: number,
    t: number,
  ): { start: number; count: number } {
    let w = cache.get(key);
    if (!w || t - w.start >= windowMs) {
      w = { start: t, count: 0 };
      cache.set(key, w);
    }
    return w;
  }
}

function secs(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
