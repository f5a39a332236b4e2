import {
  createHash,
  createHmac,
  createSecretKey,
  KeyObject,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { LRUCache } from 'lru-cache';
import {
  pairwiseKey,
  x25519PrivateFromEd25519,
  x25519PublicFromEd25519,
} from './cluster-auth.pairwise';

/**
 * Node-to-node request authentication. Everything is in the headers, so a receiver
 * decides before reading a single body byte:
 *  - x-cluster-digest: the body's length and SHA-256 (checked while the body streams in);
 *  - x-cluster-signature: HMAC(CLUSTER_SECRET) over sender, method, path, timestamp,
 *    nonce and digest: proves membership;
 *  - x-cluster-binding: per receiver, an HMAC under the pairwise key of sender and
 *    receiver (cluster-auth.pairwise.ts): proves which node sent it. Holding the
 *    cluster secret alone no longer lets anyone speak as a given node.
 * A request outside the clock-skew window is refused; inside it, a nonce seen before
 * is a replay.
 */

export const HEADER_NODE = 'x-cluster-node';
export const HEADER_TS = 'x-cluster-ts';
export const HEADER_NONCE = 'x-cluster-nonce';
export const HEADER_SIGNATURE = 'x-cluster-signature';
export const HEADER_DIGEST = 'x-cluster-digest';
export const HEADER_BINDING = 'x-cluster-binding';

// A type alias (not an interface) so it passes where header maps are expected.
export type SignedHeaders = {
  [HEADER_NODE]: string;
  [HEADER_TS]: string;
  [HEADER_NONCE]: string;
  [HEADER_SIGNATURE]: string;
  [HEADER_DIGEST]: string;
  [HEADER_BINDING]?: string;
};

/** What the headers alone establish. `bound`: signed with the sender node's own key. */
export type HeaderCheck =
  | {
      ok: true;
      nodeId: string;
      bound: boolean;
      /** the sender's registered address, when its key is known */
      address?: string;
      bodyLength: number;
      bodySha256: string;
    }
  | { ok: false; reason: string };

export type VerifyResult =
  { ok: true; nodeId: string; bound: boolean; address?: string } | { ok: false; reason: string };

/** A validator's key as the registry holds it. */
export interface PeerKey {
  id: string;
  /** base64 raw Ed25519 public key */
  publicKey: string;
  address?: string;
}

interface Peer {
  id: string;
  publicKey: string;
  address?: string;
  /** K(self, peer), computed on first use */
  key?: KeyObject | null;
}

const NODE_ID = /^[A-Za-z0-9._-]{1,64}$/;
const DIGEST = /^(\d{1,10})\.([0-9a-f]{64})$/;
const MAX_BINDINGS = 64;
const NONCE_BYTES = 16;
/** nonces drawn from the CSPRNG this many at a time (one call instead of one per request) */
const NONCE_POOL = 256;

export function bodyDigest(body: Uint8Array): string {
  return `${body.length}.${createHash('sha256').update(body).digest('hex')}`;
}

function canonical(
  node: string,
  method: string,
  path: string,
  ts: string,
  nonce: string,
  digest: string,
): string {
  return `uptime-cluster/v2\n${node}\n${method.toUpperCase()}\n${path}\n${ts}\n${nonce}\n${digest}`;
}

export class ClusterAuth {
  private readonly seen: LRUCache<string, true>;
  /** the cluster secret as a key object: HMACs skip re-reading the string each time */
  private readonly secretKey: KeyObject;
  private noncePool = Buffer.alloc(0);
  private nonceAt = 0;
  private ownAgreementKey?: KeyObject;
  private readonly peers = new Map<string, Peer>();
  private readonly byAddress = new Map<string, string>();
  private unknownListener?: (nodeId: string) => void;

  constructor(
    private readonly secret: string,
    readonly nodeId: string,
    /** how far a request's timestamp may be from our clock */
    private readonly skewMs = 30_000,
    private readonly now: () => number = Date.now,
    maxNonces = 200_000,
  ) {
    this.secretKey = createSecretKey(Buffer.from(secret, 'utf8'));
    // A nonce must be remembered as long as its timestamp could still pass.
    this.seen = new LRUCache({ max: maxNonces, ttl: 2 * skewMs, ttlAutopurge: false });
  }

  /** This node's Ed25519 private key (the validator identity): enables bound requests. */
  useIdentity(ed25519Private: KeyObject): void {
    this.ownAgreementKey = x25519PrivateFromEd25519(ed25519Private);
    for (const p of this.peers.values()) p.key = undefined;
  }

  /** Replaces the known validators (the registry); keys of unchanged peers are kept. */
  setPeers(peers: readonly PeerKey[]): void {
    const next = new Map<string, Peer>();
    for (const p of peers) {
      const old = this.peers.get(p.id);
      next.set(
        p.id,
        old && old.publicKey === p.publicKey ? { ...old, address: p.address } : { ...p },
      );
    }
    this.peers.clear();
    this.byAddress.clear();
    for (const p of next.values()) this.remember(p);
  }

  /** Adds or updates one validator (a verified join). */
  addPeer(peer: PeerKey): void {
    const old = this.peers.get(peer.id);
    if (old?.address) this.byAddress.delete(old.address);
    this.remember(
      old && old.publicKey === peer.publicKey ? { ...old, address: peer.address } : { ...peer },
    );
  }

  /** Called (at most once per node id and second) when a member's key is not known yet. */
  onUnknownPeer(listener: (nodeId: string) => void): void {
    this.unknownListener = listener;
  }

  /** The registered address of a validator id, if known. */
  addressOf(nodeId: string): string | undefined {
    return this.peers.get(nodeId)?.address;
  }

  /**
   * Headers for one request. `to` (a node id or address) limits the binding to that
   * receiver; without it, every known peer gets its own binding.
   */
  sign(method: string, path: string, body: Uint8Array, to?: string): SignedHeaders {
    const ts = String(this.now());
    const nonce = this.nextNonce();
    const digest = bodyDigest(body);
    const text = canonical(this.nodeId, method, path, ts, nonce, digest);
    const headers: SignedHeaders = {
      [HEADER_NODE]: this.nodeId,
      [HEADER_TS]: ts,
      [HEADER_NONCE]: nonce,
      [HEADER_SIGNATURE]: createHmac('sha256', this.secretKey).update(text).digest('hex'),
      [HEADER_DIGEST]: digest,
    };
    const targetId =
      to === undefined ? undefined : this.peers.has(to) ? to : this.byAddress.get(to);
    const receivers = targetId ? [targetId] : [...this.peers.keys()].slice(0, MAX_BINDINGS);
    const bindings: string[] = [];
    for (const id of receivers) {
      if (id === this.nodeId) continue;
      const key = this.keyFor(id);
      if (key) bindings.push(`${id}=${bindingMac(key, id, text).toString('hex')}`);
    }
    if (bindings.length > 0) headers[HEADER_BINDING] = bindings.join(',');
    return headers;
  }

  /** Verifies everything but the body bytes; records the nonce once the MAC holds. */
  checkHeaders(
    method: string,
    path: string,
    headers: Record<string, string | string[] | undefined>,
  ): HeaderCheck {
    const get = (h: string) => {
      const v = headers[h];
      return typeof v === 'string' ? v : undefined;
    };
    const node = get(HEADER_NODE);
    const ts = get(HEADER_TS);
    const nonce = get(HEADER_NONCE);
    const sig = get(HEADER_SIGNATURE);
    const digest = get(HEADER_DIGEST);
    if (!node || !ts || !nonce || !sig || !digest) return { ok: false, reason: 'unsigned request' };
    const d = DIGEST.exec(digest);
    if (
      !NODE_ID.test(node) ||
      !/^\d{1,16}$/.test(ts) ||
      !/^[0-9a-f]{32}$/.test(nonce) ||
      !/^[0-9a-f]{64}$/.test(sig) ||
      !d
    ) {
      return { ok: false, reason: 'malformed signature headers' };
    }
    if (Math.abs(this.now() - Number(ts)) > this.skewMs)
      return { ok: false, reason: 'stale or future timestamp' };
    const text = canonical(node, method, path, ts, nonce, digest);
    const expected = createHmac('sha256', this.secretKey).update(text).digest();
    if (!timingSafeEqual(expected, Buffer.from(sig, 'hex')))
      return { ok: false, reason: 'bad signature' };

    let bound = false;
    const binding = this.bindingFor(get(HEADER_BINDING));
    const peer = this.peers.get(node);
    if (binding !== undefined) {
      const key = peer ? this.keyFor(node) : undefined;
      if (key) {
        const want = bindingMac(key, this.nodeId, text);
        if (
          binding.length !== 64 ||
          !/^[0-9a-f]{64}$/.test(binding) ||
          !timingSafeEqual(want, Buffer.from(binding, 'hex'))
        )
          return { ok: false, reason: `bad node signature for ${node}` };
        bound = true;
      }
    }
    if (!bound && !peer) this.notifyUnknown(node);
    // Checked after the MAC, so an attacker cannot fill the nonce cache with junk.
    const seenKey = `${node}:${nonce}`;
    if (this.seen.has(seenKey)) return { ok: false, reason: 'replayed request' };
    this.seen.set(seenKey, true);
    return {
      ok: true,
      nodeId: node,
      bound,
      ...(bound && peer?.address ? { address: peer.address } : {}),
      bodyLength: Number(d[1]),
      bodySha256: d[2],
    };
  }

  /** Headers and body together (the whole check for callers holding the body). */
  verify(
    method: string,
    path: string,
    body: Uint8Array,
    headers: Record<string, string | string[] | undefined>,
  ): VerifyResult {
    const h = this.checkHeaders(method, path, headers);
    if (!h.ok) return h;
    if (bodyDigest(body) !== `${h.bodyLength}.${h.bodySha256}`)
      return { ok: false, reason: 'body does not match its signed digest' };
    return {
      ok: true,
      nodeId: h.nodeId,
      bound: h.bound,
      ...(h.address ? { address: h.address } : {}),
    };
  }

  /**
   * A key only this node and `peer` (a node id or address) can compute:
   * HMAC(K(self, peer), "session" | context), for a session both sides name
   * the same way (ids, nonces); undefined if the pairwise key is unknown.
   */
  sessionKey(peer: string, context: string): Buffer | undefined {
    const id = this.peers.has(peer) ? peer : this.byAddress.get(peer);
    const key = id === undefined || id === this.nodeId ? undefined : this.keyFor(id);
    return key && createHmac('sha256', key).update(`session\n${context}`).digest();
  }

  /** The validator id registered at `address`, if any. */
  idAt(address: string): string | undefined {
    return this.byAddress.get(address);
  }

  private bindingFor(header: string | undefined): string | undefined {
    if (!header || header.length > MAX_BINDINGS * 140) return undefined;
    for (const part of header.split(',', MAX_BINDINGS)) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === this.nodeId) return part.slice(eq + 1).trim();
    }
    return undefined;
  }

  /** 16 random bytes as hex, from a pool refilled from the CSPRNG. */
  private nextNonce(): string {
    if (this.nonceAt + NONCE_BYTES > this.noncePool.length) {
      this.noncePool = randomBytes(NONCE_BYTES * NONCE_POOL);
      this.nonceAt = 0;
    }
    const nonce = this.noncePool.toString('hex', this.nonceAt, this.nonceAt + NONCE_BYTES);
    this.nonceAt += NONCE_BYTES;
    return nonce;
  }

  private keyFor(id: string): KeyObject | undefined {
    const peer = this.peers.get(id);
    if (!peer || !this.ownAgreementKey) return undefined;
    if (peer.key === undefined) {
      const x = x25519PublicFromEd25519(Buffer.from(peer.publicKey, 'base64'));
      try {
        peer.key = x
          ? createSecretKey(pairwiseKey(this.secret, this.nodeId, this.ownAgreementKey, id, x))
          : null;
      } catch {
        peer.key = null; // a low-order or malformed key never binds anything
      }
    }
    return peer.key ?? undefined;
  }

  private remember(p: Peer): void {
    this.peers.set(p.id, p);
    if (p.address) this.byAddress.set(p.address, p.id);
  }

  private readonly lastUnknown = new LRUCache<string, number>({ max: 1_000 });
  private notifyUnknown(node: string): void {
    if (!this.unknownListener) return;
    const t = this.now();
    if (t - (this.lastUnknown.get(node) ?? -Infinity) < 1_000) return;
    this.lastUnknown.set(node, t);
    this.unknownListener(node);
  }
}

function bindingMac(key: KeyObject, receiver: string, text: string): Buffer {
  return createHmac('sha256', key).update(`bind\n${receiver}\n${text}`).digest();
}
