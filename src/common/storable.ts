/**
 * What PostgreSQL can store, checked before a value reaches a query: instants
 * between years 1 and 9999 (timestamptz goes further back, JavaScript further
 * forward; this is the range both agree on and ISO 8601 writes with four digits),
 * and 64-bit signed ids. A value outside is the caller's mistake (400), never a
 * database error (500).
 */
export const MIN_STORABLE_MS = Date.parse('0001-01-01T00:00:00.000Z');
export const MAX_STORABLE_MS = Date.parse('9999-12-31T23:59:59.999Z');
const MAX_BIGINT = 9223372036854775807n;

export function isStorableTime(ms: unknown): ms is number {
  return (
    typeof ms === 'number' && Number.isFinite(ms) && ms >= MIN_STORABLE_MS && ms <= MAX_STORABLE_MS
  );
}

/** The instant `s` names, if PostgreSQL can store it (and it is a real calendar date). */
export function storableDate(s: unknown): Date | null {
  if (typeof s !== 'string' || s.length > 64) return null;
  const ms = Date.parse(s);
  return isStorableTime(ms) ? new Date(ms) : null;
}

/** A decimal id that fits PostgreSQL's bigint (and is not negative). */
export function isBigintId(s: unknown): s is string {
  return typeof s === 'string' && /^\d{1,19}$/.test(s) && BigInt(s) <= MAX_BIGINT;
}
