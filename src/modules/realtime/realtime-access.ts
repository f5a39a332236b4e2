/**
 * Who a real-time connection is and what it may see: a valid HS256 user token (same secret and
 * rules as the REST API) and, per site, ownership. Both transports ask here, so a plain
 * WebSocket client can never see more than a Socket.IO one.
 */
import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { z } from 'zod';
import { LIVE_QUOTAS, LiveQuota } from '@/modules/auth/quotas';
import { TokenVersions } from '@/modules/auth/token-versions';
import { WebsiteRepository } from '@/modules/websites/website.repository';
import type { RealtimeErrorEvent } from './realtime-events';

export interface RealtimeIdentity {
  userId: string;
  email: string;
  /** epoch ms when the token expires; the connection is closed then */
  expiresAt: number | null;
  /** the token version (see TokenVersions): a logout or password change ends the connection */
  tokenVersion: number;
}

export type SiteCheck = { ok: true; siteId: string } | { ok: false; error: RealtimeErrorEvent };

const subscribeBody = z.object({ siteId: z.uuid() });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Most sites one connection may follow; beyond it a subscribe is refused. */
export const MAX_SITES_PER_CONNECTION = 500;

/** Longest single timer: setTimeout overflows (fires at once) above 2^31-1 ms, ~24.8 days. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Runs `fn` at epoch ms `at`, however far away: a long wait is cut into timers of at
 * most MAX_TIMER_MS, each re-armed on expiry. Returns the cancel function.
 */
export function runAt(at: number, fn: () => void, now: () => number = Date.now): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const left = at - now();
    if (left <= 0) return fn();
    timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}

@Injectable()
export class RealtimeAccess {
  /** open connections (both transports) per user and per client IP, and in all */
  private readonly perUser = new LiveQuota(
    LIVE_QUOTAS.realtimeConnections.perUser,
    LIVE_QUOTAS.realtimeConnections.total,
  );
  private readonly perIp = new LiveQuota(
    LIVE_QUOTAS.realtimeConnections.perIp,
    LIVE_QUOTAS.realtimeConnections.total,
  );

  constructor(
    private readonly jwt: JwtService,
    private readonly websites: WebsiteRepository,
    private readonly versions: TokenVersions,
  ) {}

  /** null for a missing, malformed, forged, expired or revoked token. */
  async identify(token: unknown): Promise<RealtimeIdentity | null> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 4096) return null;
    let p: { sub?: unknown; email?: unknown; exp?: unknown; ver?: unknown };
    try {
      p = this.jwt.verify(token, { algorithms: ['HS256'] });
    } catch {
      return null;
    }
    const ver = p.ver ?? 0;
    if (typeof p.sub !== 'string' || typeof p.email !== 'string') return null;
    if (!UUID.test(p.sub) || typeof ver !== 'number' || !Number.isSafeInteger(ver)) return null;
    if (!(await this.versions.isCurrent(p.sub, ver))) return null;
    return {
      userId: p.sub,
      email: p.email,
      expiresAt: typeof p.exp === 'number' ? p.exp * 1000 : null,
      tokenVersion: ver,
    };
  }

  /** Whether a connection's token is still valid (not revoked since it connected). */
  stillValid(user: RealtimeIdentity): Promise<boolean> {
    return this.versions.isCurrent(user.userId, user.tokenVersion);
  }

  /** Calls `listener(userId)` when this node revokes a user's tokens. */
  onRevoked(listener: (userId: string) => void): () => void {
    return this.versions.onRevoked(listener);
  }

  /** One connection slot for a client IP (taken before authentication), or null at the cap. */
  admitIp(ip: string): (() => void) | null {
    return this.perIp.acquire(ip);
  }

  /** One connection slot for an authenticated user, or null at the per-user or node cap. */
  admitUser(userId: string): (() => void) | null {
    return this.perUser.acquire(userId);
  }

  /** A subscribe/unsubscribe body naming a site this user owns; otherwise an error, never data. */
  async checkSite(user: RealtimeIdentity, body: unknown, subscribed: number): Promise<SiteCheck> {
    const parsed = subscribeBody.safeParse(body);
    if (!parsed.success) {
      return { ok: false, error: { code: 'BAD_REQUEST', message: 'expected { siteId: <uuid> }' } };
    }
    const { siteId } = parsed.data;
    if (subscribed >= MAX_SITES_PER_CONNECTION) {
      const message = `at most ${MAX_SITES_PER_CONNECTION} sites per connection`;
      return { ok: false, error: { code: 'LIMIT', message, siteId } };
    }
    // Someone else's site and no site at all look the same, as on the REST API.
    const site = await this.websites.findOwned(siteId, user.userId);
    if (!site)
      return { ok: false, error: { code: 'NOT_FOUND', message: 'website not found', siteId } };
    return { ok: true, siteId };
  }
}

export { bearerToken } from '@/common/bearer-token';
