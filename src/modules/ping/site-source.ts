/**
 * The port through which the scheduler learns which sites to check. Whatever
 * `listActive()` returns is the truth: a site absent from it (paused, deleted) stops
 * being checked at the next refresh, a new one starts within one interval.
 */
import type { SchedulableSite } from '@/core/schedule/round-schedule';

export interface SiteSpec extends SchedulableSite {
  /** stable across validators: it seeds the round phase and keys every vote */
  id: string;
  url: string;
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
