/**
 * Beats in: any node takes a beat (token → site by hash), coalesces it with others for
 * FLUSH_MS and answers only once the beat is in a committed log entry, so kill -9 of the
 * node that took it loses nothing. The leader proposes its batch as one `beats` entry
 * stamped with its clock; a follower forwards its batch to the leader (a signed cluster
 * request, POST /api/cluster/push/beats), which folds it into its own next entry.
 */
import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DomainError } from '@/common/domain-error';
import type { Clock } from '@/core/ports/clock.port';
import { AppConfig } from '@/config/app-config';
import { ClusterClient } from '@/infra/cluster/cluster-client';
import { RateLimiter } from '@/modules/auth/rate-limiter';
import { RaftHost } from '@/modules/raft/raft-host';
import { BeatCoalescer, type TakenBatch } from './beat-coalescer';
import { BEATS_MACHINE, BeatLedger, MAX_SITES_PER_ENTRY, type BeatCommand } from './beat-ledger';
import { generatePushToken, looksLikePushToken, pushTokenHash } from './push-token';
import { PushTokenRepository } from './push-token.repository';

/** how long beats wait to share an entry */
export const FLUSH_MS = 100;
/** beats one token may send per window, per node (a cron job beats once a period) */
export const BEATS_PER_WINDOW = 10;
export const BEAT_WINDOW_MS = 10_000;
export const FORWARD_PATH = '/api/cluster/push/beats';
const FORWARD_TIMEOUT_MS = 5_000;

const systemClock: Clock = { now: () => Date.now() };

export interface BeatAck {
  /** the beat's time as committed (the leader's clock), epoch ms */
  at: number;
}

@Injectable()
export class PushService implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('Push');
  private readonly coalescer = new BeatCoalescer(MAX_SITES_PER_ENTRY);
  private readonly limiter = new RateLimiter(BEATS_PER_WINDOW, BEAT_WINDOW_MS, 100_000);
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly clock: Clock = systemClock;

  constructor(
    private readonly raft: RaftHost,
    private readonly client: ClusterClient,
    private readonly config: AppConfig,
    private readonly ledger: BeatLedger,
    private readonly tokens: PushTokenRepository,
  ) {}

  onModuleInit(): void {
    this.raft.register(BEATS_MACHINE, this.ledger);
    // A deleted site's forget-site entry drops it from the ledger too, in log order on every node.
    this.raft.onCommit((_entry, result) => {
      const r = result as { kind?: unknown; siteId?: unknown } | null;
      if (r?.kind === 'forgot' && typeof r.siteId === 'string') this.ledger.forget(r.siteId);
    });
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.coalescer
      .take()
      ?.settle({ ok: false, error: new DomainError('UNAVAILABLE', 'node shutting down') });
  }

  /** A beat from a job: 404 for a token that is not a push site's, 429 past the rate. */
  async beat(token: string): Promise<BeatAck> {
    if (!looksLikePushToken(token)) throw unknownToken();
    const hash = this.hash(token);
    const key = hash.toString('base64url');
    const wait = this.limiter.retryAfter(key);
    if (wait > 0)
      throw new DomainError('RATE_LIMITED', 'too many beats for this monitor', undefined, wait);
    this.limiter.hit(key);
    const siteId = await this.tokens.siteOf(hash);
    if (!siteId) throw unknownToken();
    return { at: await this.submit(siteId) };
  }

  /**
   * Commits a beat for a site that was just created or re-armed (a new period, or a site
   * turned into a push monitor): before its first real beat it counts from this one.
   */
  async arm(siteId: string): Promise<void> {
    await this.submit(siteId);
  }

  /** A new token for the site; its hash replaces the old one. Returns the token (shown once). */
  async issueToken(siteId: string): Promise<string> {
    const token = generatePushToken();
    if (!(await this.tokens.setHash(siteId, this.hash(token))))
      throw new DomainError('NOT_FOUND', 'website not found');
    return token;
  }

  /** A follower's batch on the leader: part of the leader's next entry; resolves once committed. */
  async commitForwarded(sites: readonly string[]): Promise<BeatAck> {
    if (!this.raft.isLeader()) throw new DomainError('NOT_LEADER', 'not the leader');
    const acks = await Promise.all(sites.map((s) => this.submit(s)));
    return { at: Math.max(...acks) };
  }

  /** The site's last committed beat on this node's replica (epoch ms). */
  lastBeat(siteId: string): number | undefined {
    return this.ledger.lastBeat(siteId);
  }

  private hash(token: string): Buffer {
    return pushTokenHash(this.config.apiKeys.pepper!, token);
  }

  private submit(siteId: string): Promise<number> {
    if (this.stopped) return Promise.reject(new DomainError('UNAVAILABLE', 'node shutting down'));
    return new Promise<number>((resolve, reject) => {
      if (!this.coalescer.add(siteId, { resolve, reject })) {
        reject(new DomainError('UNAVAILABLE', 'too many beats waiting; retry', undefined, 1));
        return;
      }
      this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
    });
  }

  private flush(): void {
    this.timer = null;
    const batch = this.coalescer.take();
    if (!batch) return;
    if (this.raft.isLeader()) this.propose(batch);
    else this.forward(batch);
  }

  private propose(batch: TakenBatch): void {
    const command: BeatCommand = { at: this.clock.now(), sites: batch.sites };
    // propose throws NOT_LEADER at once when leadership just moved; later failures reject
    let committed: Promise<unknown>;
    try {
      committed = this.raft.propose(BEATS_MACHINE, command);
    } catch (e) {
      batch.settle({ ok: false, error: unavailable(e) });
      return;
    }
    committed.then(
      () => batch.settle({ ok: true, at: command.at }),
      (e: unknown) => batch.settle({ ok: false, error: unavailable(e) }),
    );
  }

  private forward(batch: TakenBatch): void {
    const leader = this.raft.snapshot().leaderId;
    if (!leader || leader === this.raft.self) {
      batch.settle({
        ok: false,
        error: new DomainError('UNAVAILABLE', 'no leader; retry', undefined, 1),
      });
      return;
    }
    this.client
      .post<{ at?: unknown }>(leader, FORWARD_PATH, { sites: batch.sites }, FORWARD_TIMEOUT_MS)
      .then(
        (r) => {
          if (r.status === 200 && typeof r.body?.at === 'number')
            batch.settle({ ok: true, at: r.body.at });
          else
            batch.settle({
              ok: false,
              error: new DomainError(
                'UNAVAILABLE',
                `leader refused the beats (${r.status}); retry`,
                undefined,
                1,
              ),
            });
        },
        (e: unknown) => {
          this.log.warn(
            `forwarding ${batch.sites.length} beats to ${leader} failed: ${(e as Error).message}`,
          );
          batch.settle({ ok: false, error: unavailable(e) });
        },
      );
  }
}

function unknownToken(): DomainError {
  return new DomainError('NOT_FOUND', 'no push monitor has this token');
}

/** Whatever stopped a commit, the beat's outcome is unknown to the caller: it retries. */
function unavailable(e: unknown): DomainError {
  if (e instanceof DomainError && (e.code === 'UNAVAILABLE' || e.code === 'NOT_LEADER'))
    return new DomainError('UNAVAILABLE', `beat not committed: ${e.message}; retry`, undefined, 1);
  return new DomainError('UNAVAILABLE', 'beat not committed; retry', undefined, 1);
}
