/**
 * Ed25519 over node:crypto for validator identities. Public keys travel and are
 * stored as base64 of the raw 32 bytes (the JWK "x" value, re-encoded); signatures
 * as base64 of the 64 bytes. Verification never throws: a bad key or signature is
 * just "does not verify".
 */
import { createPrivateKey, createPublicKey, KeyObject, sign, verify } from 'node:crypto';

const RAW_KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;
/** PKCS#8 DER header of an Ed25519 private key; the 32-byte seed follows. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function publicKeyToBase64(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new Error('not an Ed25519 key');
  return Buffer.from(jwk.x, 'base64url').toString('base64');
}

/** The public key for base64 raw bytes, or null if it is not one. */
export function publicKeyFromBase64(b64: string): KeyObject | null {
  if (!/^[A-Za-z0-9+/]{43}=$/.test(b64)) return null;
  const raw = Buffer.from(b64, 'base64');
  if (raw.length !== RAW_KEY_BYTES) return null;
  try {
    return createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
      format: 'jwk',
    });
  } catch {
    return null;
  }
}

/** A private key from a 32-byte seed: deterministic identities for tests and simulations. */
export function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  if (seed.length !== RAW_KEY_BYTES) throw new RangeError('an Ed25519 seed is 32 bytes');
  return createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, Buffer.from(seed)]),
    format: 'der',
    type: 'pkcs8',
  });
}

export function signBytes(privateKey: KeyObject, bytes: Uint8Array): string {
  return sign(null, bytes, privateKey).toString('base64');
}

export function verifyBytes(publicKey: KeyObject, bytes: Uint8Array, signature: string): boolean {
  if (signature.length !== 88) return false;
  const sig = Buffer.from(signature, 'base64');
  if (sig.length !== SIGNATURE_BYTES) return false;
  try {
    return verify(null, bytes, publicKey, sig);
  } catch {
    return false;
  }
}
