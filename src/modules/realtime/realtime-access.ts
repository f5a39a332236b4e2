/**
 * Who a real-time connection is and what it may see: a valid HS256 user token (same secret and
 * rules as the REST API) and, per site, ownership. Both transports ask here, so a plain
 * WebSocket client can never see more than a Socket.IO one.
 */
import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { z } from 'zod';
import { WebsiteRepository } from '@/modules/websites/website.repository';
import type { RealtimeErrorEvent } from './realtime-events';

export interface RealtimeIdentity {
  userId: string;
  email: string;
  /** epoch ms when the token expires; the connection is closed then */
  expiresAt: number | null;
}

export type SiteCheck = { ok: true; siteId: string } | { ok: false; error: RealtimeErrorEvent };

const subscribeBody = z.object({ siteId: z.uuid() });

/** Most sites one connection may follow; beyond it a subscribe is refused. */
export const MAX_SITES_PER_CONNECTION = 500;

@Injectable()
export class RealtimeAccess {
  constructor(
    private readonly jwt: JwtService,
    private readonly websites: WebsiteRepository,
  ) {}

  /** null for a missing, malformed, forged or expired token. */
  identify(token: unknown): RealtimeIdentity | null {
    if (typeof token !== 'string' || token.length === 0 || token.length > 4096) return null;
    try {
      const p = this.jwt.verify<{ sub?: unknown; email?: unknown; exp?: unknown }>(token, {
        algorithms: ['HS256'],
      });
      if (typeof p.sub !== 'string' || typeof p.email !== 'string') return null;
      return {
        userId: p.sub,
        email: p.email,
        expiresAt: typeof p.exp === 'number' ? p.exp * 1000 : null,
      };
    } catch {
      return null;
    }
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

/** The token of `Authorization: Bearer <token>`, if that is what the header holds. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const m = /^Bearer\s+(\S+)$/i.exec(value ?? '');
  return m?.[1];
}
