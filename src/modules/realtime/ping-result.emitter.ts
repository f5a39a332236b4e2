/**
 * `ping-result` to clients (issue 16): every accepted vote (this validator's and its
 * peers') is offered here and leaves, coalesced, to the site owner's and the site's
 * rooms on both transports. Invariants: per (site, validator) only the latest result
 * of a window is kept; each window sends at most `maxPerOwner` results per owner (the
 * rest wait, newest overwriting, so pending work is bounded by the sites); a site is
 * emitted only once this node has learnt its owner (from its own check of it), so a
 * result never reaches anyone but the owner's connections.
 */
import { Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { PingResultEvent } from './realtime-events';
import { RealtimePublisher } from './realtime.publisher';

/** What a vote tells about one check, whoever made it. */
export interface PingObservation {
  readonly siteId: string;
  readonly round: number;
  readonly validatorId: string;
  readonly region: string;
  readonly up: boolean;
  readonly latencyMs: number;
  readonly httpStatus?: number;
  readonly failure?: string;
  /** epoch ms */
  readonly checkedAt: number;
}

export interface PingResultLimits {
  /** how often pending results are sent (ms) */
  readonly windowMs: number;
  /** results one owner's connections receive per window, at most */
  readonly maxPerOwner: number;
  /** sites remembered (url, owner); oldest forgotten first */
  readonly maxSites: number;
}

/** 1 s windows, at most 50 results each: a client receives at most 50 ping-result/s. */
export const PING_RESULT_LIMITS: PingResultLimits = {
  windowMs: 1_000,
  maxPerOwner: 50,
  maxSites: 200_000,
};

interface SiteInfo {
  readonly url: string;
  readonly ownerId: string;
}

export interface PingResultStats {
  offered: number;
  emitted: number;
  /** replaced by a newer result of the same site and validator before being sent */
  coalesced: number;
  /** of sites this node has not checked itself yet (owner unknown) */
  unknownSite: number;
  pending: number;
}

@Injectable()
export class PingResultEmitter implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly sites = new Map<string, SiteInfo>();
  /** `${siteId}\n${validatorId}` -> latest observation; insertion order = first offered */
  private pending = new Map<string, PingObservation>();
  private timer?: NodeJS.Timeout;
  private readonly counters = { offered: 0, emitted: 0, coalesced: 0, unknownSite: 0 };

  constructor(
    private readonly publisher: RealtimePublisher,
    private readonly limits: PingResultLimits = PING_RESULT_LIMITS,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.flush(), this.limits.windowMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.pending.clear();
  }

  /** A site this node checks: where its results may go. */
  learnSite(siteId: string, url: string, ownerId: string | undefined): void {
    if (!ownerId) return;
    const known = this.sites.get(siteId);
    if (known && known.url === url && known.ownerId === ownerId) return;
    this.sites.delete(siteId);
    if (this.sites.size >= this.limits.maxSites) this.sites.delete(this.sites.keys().next().value!);
    this.sites.set(siteId, { url, ownerId });
  }

  /** One accepted vote; O(1), called inline by gossip. */
  offer(o: PingObservation): void {
    this.counters.offered++;
    const key = `${o.siteId}\n${o.validatorId}`;
    const prev = this.pending.get(key);
    if (prev) {
      if (prev.round > o.round) return;
      this.counters.coalesced++;
    }
    this.pending.set(key, o);
  }

  /** Sends what the window gathered (the interval calls it; tests may too). */
  flush(): void {
    if (this.pending.size === 0) return;
    if (!this.publisher.hasListeners()) {
      // Nobody listens on this node: results are live-only, keep nothing.
      this.counters.coalesced += this.pending.size;
      this.pending.clear();
      return;
    }
    const sent = new Map<string, number>();
    const later = new Map<string, PingObservation>();
    for (const [key, o] of this.pending) {
      const site = this.sites.get(o.siteId);
      if (!site) {
        this.counters.unknownSite++;
        continue;
      }
      const n = sent.get(site.ownerId) ?? 0;
      if (n >= this.limits.maxPerOwner) {
        later.set(key, o);
        continue;
      }
      sent.set(site.ownerId, n + 1);
      this.counters.emitted++;
      this.publisher.to(
        { users: [site.ownerId], sites: [o.siteId] },
        'ping-result',
        toEvent(o, site),
      );
    }
    this.pending = later;
  }

  stats(): PingResultStats {
    return { ...this.counters, pending: this.pending.size };
  }
}

function toEvent(o: PingObservation, site: SiteInfo): PingResultEvent {
  return {
    siteId: o.siteId,
    url: site.url,
    round: o.round,
    validatorId: o.validatorId,
    region: o.region,
    up: o.up,
    latencyMs: o.latencyMs,
    httpStatus: o.httpStatus ?? null,
    failure: o.failure ?? null,
    checkedAt: new Date(o.checkedAt).toISOString(),
  };
}
