/**
 * Push tokens: the credential a user's cron job puts in the beat URL. A token is 32 random
 * bytes as base64url (256 bits: nobody guesses one). Stored is only HMAC-SHA-256 with the
 * API-key pepper (API_KEY_PEPPER, or derived from JWT_SECRET), under its own label so a
 * token hash can never be mistaken for an API key's. As with API keys, a fast keyed hash is
 * enough for a random 256-bit secret, and being deterministic it is the lookup key itself
 * (a unique index): no secret is compared in JavaScript, so there is no timing to measure
 * beyond the index lookup of a value the caller cannot choose (the hash of what it sent).
 */
import { createHmac, randomBytes } from 'node:crypto';

const TOKEN_BYTES = 32;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const LABEL = 'push-token/v1:';

export function generatePushToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/** Whether `s` has the shape of a token we issue (anything else is a 404 without a lookup). */
export function looksLikePushToken(s: string): boolean {
  return TOKEN_PATTERN.test(s);
}

export function pushTokenHash(pepper: string, token: string): Buffer {
  return createHmac('sha256', pepper).update(LABEL).update(token, 'utf8').digest();
}
