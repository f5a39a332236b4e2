/**
 * API key material. A key is `uk_` + 32 random bytes (base64url): 256 bits, so nobody can
 * guess one, and the prefix tells the guard it is a key, not a JWT.
 *
 * Stored is HMAC-SHA-256(pepper, key), not scrypt: a slow, salted hash protects low-entropy
 * passwords from offline guessing, but a 256-bit random key cannot be guessed however fast
 * the hash is. A keyed hash costs microseconds per request (scrypt would cost 32 MiB and tens
 * of ms on every API call), and the pepper (API_KEY_PEPPER, or derived from JWT_SECRET) means
 * a leaked database alone does not even let anyone test a candidate key. Being deterministic,
 * the hash is also the lookup key (a unique index), so no per-user scan or salt is needed.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { API_KEY_PREFIX } from '@/modules/auth/api-key-verifier';

const KEY_BYTES = 32;
/** `uk_` + 43 base64url characters */
const KEY_PATTERN = /^uk_[A-Za-z0-9_-]{43}$/;
/** characters of the key shown in lists: the prefix and 6 random ones (36 of 256 bits) */
const HINT_LENGTH = API_KEY_PREFIX.length + 6;

export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(KEY_BYTES).toString('base64url');
}

/** Whether `s` has the shape of a key we issue (anything else is refused without a lookup). */
export function looksLikeApiKey(s: string): boolean {
  return KEY_PATTERN.test(s);
}

export function apiKeyHash(pepper: string, key: string): Buffer {
  return createHmac('sha256', pepper).update(key, 'utf8').digest();
}

export function apiKeyHint(key: string): string {
  return key.slice(0, HINT_LENGTH);
}
