import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/**
 * Node-to-node request authentication: HMAC-SHA256 with CLUSTER_SECRET over
 * method, path, timestamp, nonce and the body's digest. A request outside the
 * clock-skew window is refused; inside it, a nonce seen before is a replay.
 */

export const HEADER_NODE = 'x-cluster-node';
export const HEADER_TS = 'x-cluster-ts';
export const HEADER_NONCE = 'x-cluster-nonce';
export const HEADER_SIGNATURE = 'x-cluster-signature';

// A type alias (not an interface) so it passes where header maps are expected.
export type SignedHeaders = {
  [HEADER_NODE]: string;
  [HEADER_TS]: string;
  [HEADER_NONCE]: string;
  [HEADER_SIGNATURE]: string;
};

export type VerifyResult = { ok: true; nodeId: string } | { ok: false; reason: string };

function canonical(
  method: string,
  path: string,
  ts: string,
  nonce: string,
  body: Uint8Array,
): string {
  const digest = createHash('sha256').update(body).digest('hex');
  return `${method.toUpperCase()}\n${path}\n${ts}\n${nonce}\n${digest}`;
}

export class ClusterAuth {
  private readonly seen: LRUCache<string, true>;

  constructor(
    private readonly secret: string,
    private readonly nodeId: string,
    /** how far a request's timestamp may be from our clock */
    private readonly skewMs = 30_000,
    private readonly now: () => number = Date.now,
    maxNonces = 200_000,
  ) {
    // A nonce must be remembered as long as its timestamp could still pass.
    this.seen = new LRUCache({ max: maxNonces, ttl: 2 * skewMs, ttlAutopurge: false });
  }

  sign(method: string, path: string, body: Uint8Array): SignedHeaders {
    const ts = String(this.now());
    const nonce = randomBytes(16).toString('hex');
    const mac = createHmac('sha256', this.secret)
      .update(`${this.nodeId}\n${canonical(method, path, ts, nonce, body)}`)
      .digest('hex');
    return {
      [HEADER_NODE]: this.nodeId,
      [HEADER_TS]: ts,
      [HEADER_NONCE]: nonce,
      [HEADER_SIGNATURE]: mac,
    };
  }

  verify(
    method: string,
    path: string,
    body: Uint8Array,
    headers: Record<string, string | string[] | undefined>,
  ): VerifyResult {
    const get = (h: string) => {
      const v = headers[h];
      return typeof v === 'string' ? v : undefined;
    };
    const node = get(HEADER_NODE);
    const ts = get(HEADER_TS);
    const nonce = get(HEADER_NONCE);
    const sig = get(HEADER_SIGNATURE);
    if (!node || !ts || !nonce || !sig) return { ok: false, reason: 'unsigned request' };
    if (!/^\d{1,16}$/.test(ts) || !/^[0-9a-f]{32}$/.test(nonce) || !/^[0-9a-f]{64}$/.test(sig)) {
      return { ok: false, reason: 'malformed signature headers' };
    }
    if (Math.abs(this.now() - Number(ts)) > this.skewMs)
      return { ok: false, reason: 'stale or future timestamp' };
    const expected = createHmac('sha256', this.secret)
      .update(`${node}\n${canonical(method, path, ts, nonce, body)}`)
      .digest();
    if (!timingSafeEqual(expected, Buffer.from(sig, 'hex')))
      return { ok: false, reason: 'bad signature' };
    // Checked after the MAC, so an attacker cannot fill the nonce cache with junk.
    const key = `${node}:${nonce}`;
    if (this.seen.has(key)) return { ok: false, reason: 'replayed request' };
    this.seen.set(key, true);
    return { ok: true, nodeId: node };
  }
}
