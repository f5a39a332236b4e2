/**
 * The port through which the scheduler learns which sites to check. Whatever
 * `listActive()` returns is the truth: a site absent from it (paused, deleted) stops
 * being checked at the next refresh, a new one starts within one interval.
 */
import type { SchedulableSite } from '@/core/schedule/round-schedule';
import type { CheckSpec } from './check-spec';

export interface SiteSpec extends SchedulableSite {
  /** stable across validators: it seeds the round phase and keys every vote */
  id: string;
  /** the target: an http(s) URL, or tcp://, tls://, dns:// for those kinds */
  url: string;
  /** the kind and its options; absent: an http GET */
  check?: CheckSpec;
  /** the owner's user id, when the source knows it (real-time results go to the owner) */
  ownerId?: string;
  intervalMs: number;
  /** clamped to intervalMs: a check never overlaps the next round of its site */
  timeoutMs: number;
  /** accepted statuses; empty means any 2xx */
  expectedStatus: number[];
  keyword?: string | null;
  followRedirects?: boolean;
  maxRedirects?: number;
  /** reuse one connection across rounds (default: a fresh connection per check) */
  keepAlive?: boolean;
  /** retries of a failed check within its round before voting DOWN (default 0) */
  retries?: number;
  /** pause before each retry, ms (default 0) */
  retryDelayMs?: number;
}

export abstract class SiteSource {
  /** Every site to check: not paused, not deleted. */
  abstract listActive(): Promise<SiteSpec[]>;
  /** Optional push: call `listener` after a change so it applies before the next poll. */
  onChange?(listener: () => void): () => void;
}

/** Until a module binds a real source (websites, over PostgreSQL), nothing is checked. */
export class NoSites extends SiteSource {
  override async listActive(): Promise<SiteSpec[]> {
    return [];
  }
}
