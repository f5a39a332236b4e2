/**
 * Pairwise keys between validators, from the Ed25519 keys already in the registry:
 * each Ed25519 key maps to an X25519 key (RFC 7748 birational map, as libsodium's
 * crypto_sign_ed25519_*_to_curve25519), and two nodes share HMAC key
 * K(a,b) = HMAC(CLUSTER_SECRET, "uptime-pair/v1" | sorted ids | X25519(a, b)).
 * Only the two key holders (who must also hold the cluster secret) can compute it,
 * so a MAC under K(a,b) proves "a sent this to b"; one ECDH per peer, then one HMAC
 * per request, which stays cheap at thousands of requests per second.
 */
import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  KeyObject,
} from 'node:crypto';

const P = (1n << 255n) - 19n;
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b %= m;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}

function leToBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}

function bigIntToLe(n: bigint, len: number): Buffer {
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

/** X25519 public key (raw 32 bytes) of an Ed25519 public key (raw 32 bytes): u = (1+y)/(1-y). */
export function x25519PublicFromEd25519(edPublic: Uint8Array): Buffer | null {
  if (edPublic.length !== 32) return null;
  const bytes = Buffer.from(edPublic);
  bytes[31] &= 0x7f; // the top bit is the sign of x; u depends on y only
  const y = leToBigInt(bytes);
  if (y >= P || y === 1n) return null; // not canonical, or the point at infinity's image
  const u = ((1n + y) * modPow((1n - y + P) % P, P - 2n, P)) % P;
  return bigIntToLe(u, 32);
}

/** X25519 private key of an Ed25519 private key: the clamped first half of SHA-512(seed). */
export function x25519PrivateFromEd25519(edPrivate: KeyObject): KeyObject {
  const jwk = edPrivate.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.d !== 'string') throw new Error('not an Ed25519 key');
  const scalar = createHash('sha512')
    .update(Buffer.from(jwk.d, 'base64url'))
    .digest()
    .subarray(0, 32);
  return createPrivateKey({
    key: Buffer.concat([X25519_PKCS8_PREFIX, scalar]),
    format: 'der',
    type: 'pkcs8',
  });
}

export function x25519PublicKey(raw: Uint8Array): KeyObject {
  return createPublicKey({
    key: Buffer.concat([X25519_SPKI_PREFIX, raw]),
    format: 'der',
    type: 'spki',
  });
}

/** K(a,b); symmetric in (a, b). Throws if the peer's key is a low-order point. */
export function pairwiseKey(
  clusterSecret: string,
  ownId: string,
  ownPrivate: KeyObject,
  peerId: string,
  peerX25519Public: Uint8Array,
): Buffer {
  const shared = diffieHellman({
    privateKey: ownPrivate,
    publicKey: x25519PublicKey(peerX25519Public),
  });
  if (shared.every((b) => b === 0)) throw new Error('low-order peer key');
  const [lo, hi] = ownId < peerId ? [ownId, peerId] : [peerId, ownId];
  return createHmac('sha256', clusterSecret)
    .update(`uptime-pair/v1\n${lo}\n${hi}\n`)
    .update(shared)
    .digest();
}
