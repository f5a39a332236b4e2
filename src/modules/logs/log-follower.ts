/**
 * GET /api/logs/stream: every open stream on this node is served by ONE poll loop
 * (one query per log type per second for all followers together, not one per
 * stream). Rows are followed by insertion (LogsService.inserted), so a row written
 * late, with an older timestamp, is still delivered. Each poll re-reads the rows
 * since the previous poll's start and drops those already sent, so a row whose
 * transaction committed after a later one was seen is not missed either.
 * A stream ends when its token expires or is revoked (logout, password change), or
 * when the API key it was opened with expires or is revoked (checked every poll),
 * and a user may hold at most LIVE_QUOTAS.logStreams.perUser of them.
 */
import { Injectable, Logger, MessageEvent, OnModuleDestroy, Optional } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { Observable, Subscriber } from 'rxjs';
import { ApiKeyVerifier } from '@/modules/auth/api-key-verifier';
import { AuthUser } from '@/modules/auth/auth.service';
import { LIVE_QUOTAS, LiveQuota, quotaExceeded } from '@/modules/auth/quotas';
import { TokenVersions } from '@/modules/auth/token-versions';
import { runAt } from '@/modules/realtime/realtime-access';
import {
  FollowCursor,
  LOG_TYPES,
  LogItem,
  LogsQuery,
  LogsService,
  LogType,
  matchesQuery,
} from './logs.service';

export const FOLLOW_POLL_MS = 1_000;
/** rows per type and poll; more are picked up by the next poll */
const BATCH = 1_000;
/** alerts are followed by time: re-read this far back to catch late commits */
const ALERT_OVERLAP_MS = 5_000;

interface Follower {
  user: AuthUser;
  query: LogsQuery;
  out: Subscriber<MessageEvent>;
}

interface TypeState {
  /** what the last poll started from (re-read each time, deduplicated) */
  low: FollowCursor;
  high: FollowCursor;
  sent: LRUCache<string, true>;
}

@Injectable()
export class LogFollower implements OnModuleDestroy {
  private readonly log = new Logger('LogFollower');
  private readonly followers = new Set<Follower>();
  private readonly quota = new LiveQuota(
    LIVE_QUOTAS.logStreams.perUser,
    LIVE_QUOTAS.logStreams.total,
  );
  private readonly state = new Map<LogType, Promise<TypeState>>();
  private timer?: NodeJS.Timeout;
  private polling = false;
  /** polls run so far (tests and metrics) */
  polls = 0;

  constructor(
    private readonly logs: LogsService,
    private readonly versions: TokenVersions,
    @Optional() private readonly apiKeys?: ApiKeyVerifier,
  ) {}

  onModuleDestroy(): void {
    clearTimeout(this.timer);
    for (const f of this.followers) f.out.complete();
  }

  get size(): number {
    return this.followers.size;
  }

  /** Throws QUOTA_EXCEEDED (before the stream opens) when the user holds too many. */
  follow(user: AuthUser & { expiresAt?: number }, query: LogsQuery): Observable<MessageEvent> {
    const release = this.quota.acquire(user.id);
    if (!release)
      throw quotaExceeded(`at most ${LIVE_QUOTAS.logStreams.perUser} log streams per account`);
    let claimed = false;
    return new Observable<MessageEvent>((out) => {
      if (claimed) return; // one subscription per stream
      claimed = true;
      const f: Follower = { user, query, out };
      this.followers.add(f);
      if (!this.state.has(query.type)) this.state.set(query.type, this.start(query.type));
      const cancelExpiry =
        user.expiresAt === undefined
          ? () => undefined
          : runAt(user.expiresAt, () => out.complete());
      this.schedule();
      return () => {
        cancelExpiry();
        this.followers.delete(f);
        release();
      };
    });
  }

  private async start(type: LogType): Promise<TypeState> {
    const head = await this.logs.head(type);
    return { low: head, high: head, sent: new LRUCache({ max: 20_000 }) };
  }

  private schedule(): void {
    if (this.timer || this.followers.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.poll().finally(() => this.schedule());
    }, FOLLOW_POLL_MS);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    this.polls += 1;
    try {
      await this.dropRevoked();
      for (const type of LOG_TYPES) {
        const mine = [...this.followers].filter((f) => f.query.type === type);
        if (mine.length === 0) {
          this.state.delete(type);
          continue;
        }
        await this.pollType(type, mine);
      }
    } catch (e) {
      // The database is briefly unavailable: the next poll picks up where this one stopped.
      this.log.debug(`log follow poll failed: ${(e as Error).message}`);
    } finally {
      this.polling = false;
    }
  }

  private async pollType(type: LogType, mine: Follower[]): Promise<void> {
    const st = await this.state.get(type)!;
    const owners = [...new Set(mine.map((f) => f.user.id))];
    const from: FollowCursor =
      type === 'alerts'
        ? { id: 0n, at: new Date(st.high.at.getTime() - ALERT_OVERLAP_MS) }
        : { id: st.low.id, at: st.low.at };
    const rows = await this.logs.inserted(type, owners, from, BATCH);
    let high = st.high;
    for (const { ownerId, item } of rows) {
      const id = BigInt(type === 'alerts' ? 0 : item.id);
      if (id > high.id) high = { ...high, id };
      if (type === 'alerts' && new Date(item.at) > high.at)
        high = { ...high, at: new Date(item.at) };
      if (st.sent.has(item.id)) continue;
      st.sent.set(item.id, true);
      this.deliver(ownerId, item, mine);
    }
    // Next time, re-read from where this poll's new rows began.
    st.low = st.high;
    st.high = high;
  }

  private deliver(ownerId: string, item: LogItem, mine: Follower[]): void {
    for (const f of mine)
      if (f.user.id === ownerId && matchesQuery(f.query, item))
        f.out.next({ type: item.type, id: item.id, data: item });
  }

  private async dropRevoked(): Promise<void> {
    const checked = new Map<string, boolean>();
    for (const f of [...this.followers]) {
      const key = `${f.user.id}:${f.user.tokenVersion ?? 0}`;
      let ok = checked.get(key);
      if (ok === undefined) {
        ok = await this.versions.isCurrent(f.user.id, f.user.tokenVersion ?? 0);
        checked.set(key, ok);
      }
      if (!ok) f.out.complete();
    }
    const keyed = [...this.followers].filter((f) => f.user.apiKey);
    if (keyed.length === 0) return;
    const present = this.apiKeys
      ? await this.apiKeys.stillPresent([...new Set(keyed.map((f) => f.user.apiKey!.id))])
      : new Set<string>();
    for (const f of keyed) if (!present.has(f.user.apiKey!.id)) f.out.complete();
  }
}
