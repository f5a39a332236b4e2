/**
 * A validator's signed opinion of one site in one round. Invariant: the bytes a
 * signature covers are a pure function of the vote's fields in one fixed order,
 * so every node verifies exactly what the signer signed, whatever JSON key order
 * or extra whitespace the vote travelled in.
 */

/** Why a check failed; the vocabulary of ping_logs.failure (Prisma enum FailureClass). */
export const VOTE_FAILURES = [
  'DNS',
  'TIMEOUT',
  'CONNECT',
  'TLS',
  'HTTP_STATUS',
  'KEYWORD',
  'BLOCKED',
] as const;
export type VoteFailure = (typeof VOTE_FAILURES)[number];

export interface UnsignedVote {
  readonly siteId: string;
  /** the site's round (DESIGN §2: round r starts at r*interval + phase(site)) */
  readonly round: number;
  readonly validatorId: string;
  readonly region: string;
  readonly up: boolean;
  readonly latencyMs: number;
  readonly httpStatus?: number;
  readonly failure?: VoteFailure;
  /** when the check started, epoch ms */
  readonly checkedAt: number;
}

export interface Vote extends UnsignedVote {
  /** base64 Ed25519 signature of voteSigningBytes(vote); empty or absent = unsigned */
  readonly signature?: string;
}

/** Identifiers are restricted so keys built from them are unambiguous and small. */
export const SITE_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export const NODE_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const MAX_LATENCY_MS = 3_600_000;
export const MAX_SIGNATURE_CHARS = 256;

const DOMAIN = 'uptime-vote/v1';

/**
 * The canonical text a vote's signature covers: a domain tag (so a vote
 * signature can never be replayed as any other signed message) and a JSON
 * array of the fields in a fixed order. Absent optional fields are null.
 */
export function canonicalVote(v: UnsignedVote): string {
  return `${DOMAIN}\n${JSON.stringify([
    v.siteId,
    v.round,
    v.validatorId,
    v.region,
    v.up,
    v.latencyMs,
    v.httpStatus ?? null,
    v.failure ?? null,
    v.checkedAt,
  ])}`;
}

export function voteSigningBytes(v: UnsignedVote): Uint8Array {
  return new TextEncoder().encode(canonicalVote(v));
}

/**
 * The dedup key of DESIGN §2: (siteId, round, validatorId). Unambiguous because
 * a round is an integer and a validator id has no ':' (the site id may).
 */
export function voteKey(v: Pick<UnsignedVote, 'siteId' | 'round' | 'validatorId'>): string {
  return `${v.round}:${v.validatorId}:${v.siteId}`;
}

/** Just the fields of UnsignedVote, in canonical order (drops transport extras). */
export function unsignedPart(v: UnsignedVote): UnsignedVote {
  return {
    siteId: v.siteId,
    round: v.round,
    validatorId: v.validatorId,
    region: v.region,
    up: v.up,
    latencyMs: v.latencyMs,
    ...(v.httpStatus !== undefined ? { httpStatus: v.httpStatus } : {}),
    ...(v.failure !== undefined ? { failure: v.failure } : {}),
    checkedAt: v.checkedAt,
  };
}

/**
 * Structural check for values that did not come through a schema (simulation,
 * internal callers). The HTTP edge validates the same constraints with zod.
 */
export function isWellFormedVote(v: unknown): v is Vote {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  const int = (x: unknown, min: number, max: number) =>
    typeof x === 'number' && Number.isSafeInteger(x) && x >= min && x <= max;
  return (
    typeof o.siteId === 'string' &&
    SITE_ID_PATTERN.test(o.siteId) &&
    int(o.round, 0, Number.MAX_SAFE_INTEGER) &&
    typeof o.validatorId === 'string' &&
    NODE_ID_PATTERN.test(o.validatorId) &&
    typeof o.region === 'string' &&
    NODE_ID_PATTERN.test(o.region) &&
    typeof o.up === 'boolean' &&
    int(o.latencyMs, 0, MAX_LATENCY_MS) &&
    (o.httpStatus === undefined || int(o.httpStatus, 100, 599)) &&
    (o.failure === undefined || (VOTE_FAILURES as readonly unknown[]).includes(o.failure)) &&
    int(o.checkedAt, 0, Number.MAX_SAFE_INTEGER) &&
    (o.signature === undefined ||
      (typeof o.signature === 'string' && o.signature.length <= MAX_SIGNATURE_CHARS))
  );
}
