/**
 * What one check of one URL found. `up` is true only with no `failure`; `failure`
 * names the first thing that went wrong, in the vocabulary of ping_logs.failure.
 */
import type { FailureClass } from '@/generated/prisma/enums';
import type { CheckSpec } from './check-spec';

export type { FailureClass };

/** Durations in ms; a phase that did not happen (reused connection, IP literal) is absent. */
export interface CheckPhases {
  /** name resolution through the DNS cache (summed over redirect hops) */
  dns?: number;
  /** TCP handshake (summed over hops) */
  connect?: number;
  /** TLS handshake (summed over hops) */
  tls?: number;
  /** request written to response headers parsed, on the last hop */
  firstByte?: number;
  /** the whole check, including redirects and the bounded body read */
  total: number;
}

export interface CheckResult {
  up: boolean;
  /** wall time of the whole check, ms (integer) */
  latencyMs: number;
  /** status of the last response received, if any */
  httpStatus?: number;
  failure?: FailureClass;
  /** human-readable cause, at most 1024 characters */
  error?: string;
  phases: CheckPhases;
  /** when the check started (epoch ms) */
  checkedAt: number;
  /** the address the last hop connected to */
  remoteAddress?: string;
  /** redirects followed */
  redirects?: number;
  /** checks made for this result when the site retries in-round (absent: one) */
  attempts?: number;
  /** the certificate the last TLS handshake was shown (https, tls and tcp+tls checks) */
  certificate?: CertificateFacts;
}

export interface CertificateFacts {
  /** notAfter, epoch ms */
  validTo: number;
  /** whole days from the check to notAfter; negative once expired */
  daysLeft: number;
  /** a tls check's warnDays threshold passed (still UP until downDays) */
  warning?: boolean;
}

/** What to check; a SiteSpec carries these plus its schedule. */
export interface CheckTarget {
  /** an http(s) URL, or tcp://, tls://, dns:// for those kinds */
  url: string;
  /** the kind and its options; absent: an http GET */
  check?: CheckSpec;
  timeoutMs: number;
  /** accepted statuses; empty or absent means any 2xx */
  expectedStatus?: readonly number[];
  /** bytes that must appear in the first `maxBodyBytes` of the body (case-sensitive) */
  keyword?: string | null;
  /** follow 3xx Location (default true), up to `maxRedirects` (default 5) */
  followRedirects?: boolean;
  maxRedirects?: number;
  /** reuse one connection across checks under this key (a site option); default: fresh */
  keepAliveKey?: string;
}

export abstract class Checker {
  /** Never rejects: every failure is a result. `signal` cancels (shutdown). */
  abstract check(target: CheckTarget, signal?: AbortSignal): Promise<CheckResult>;
  /** Forgets the kept-alive connection of `keepAliveKey` (the site is gone). */
  release?(keepAliveKey: string): void;
}
