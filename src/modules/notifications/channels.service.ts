/**
 * Channels of one user: validated settings (per type), the destination checked by the SSRF guard
 * at creation and on every change (422), a quota per user, test notifications (rate-limited),
 * and per-site routing and reminders. Another user's channel or site is NOT_FOUND.
 */
import { Injectable } from '@nestjs/common';
import { DomainError } from '@/common/domain-error';
import { assertPublicUrl, BlockedTargetError } from '@/common/net/ssrf-guard';
import { AppConfig } from '@/config/app-config';
import type { AlertKind } from '@/modules/alerts/alert-events';
import { DnsCache, DnsLookupError } from '@/modules/dns/dns-cache';
import { ChannelType, splitSettings } from './channel-config';
import { ChannelRecord, ChannelRepository } from './channel.repository';
import { ChannelSender } from './channel-sender';
import { siteLink } from './delivery/notify-deliverer';
import { NotifyClock } from './notify-clock';
import type { NotifyMessage } from './notify-message';

const TESTS_PER_MINUTE = 10;

@Injectable()
export class ChannelsService {
  private readonly testLog = new Map<string, number[]>();

  constructor(
    private readonly channels: ChannelRepository,
    private readonly sender: ChannelSender,
    private readonly dns: DnsCache,
    private readonly config: AppConfig,
    private readonly clock: NotifyClock,
  ) {}

  async create(
    ownerId: string,
    input: {
      name: string;
      type: ChannelType;
      settings: Record<string, unknown>;
      defaultKinds: AlertKind[];
      enabled: boolean;
    },
  ): Promise<ChannelRecord> {
    const max = this.config.notify.maxChannelsPerUser;
    if ((await this.channels.countOwned(ownerId)) >= max) {
      throw new DomainError('CONFLICT', `at most ${max} notification channels per user`);
    }
    const split = this.validate(input.type, input.settings);
    await this.assertDestination(input.type, split.config, split.secrets);
    return this.channels.create(ownerId, {
      name: input.name,
      type: input.type,
      config: split.config,
      secrets: split.secrets,
      defaultKinds: input.defaultKinds,
      enabled: input.enabled,
    });
  }

  list(ownerId: string): Promise<ChannelRecord[]> {
    return this.channels.listOwned(ownerId);
  }

  async get(ownerId: string, id: string): Promise<ChannelRecord> {
    const c = await this.channels.findOwned(id, ownerId);
    if (!c) throw notFound();
    return c;
  }

  async update(
    ownerId: string,
    id: string,
    patch: {
      name?: string;
      settings?: Record<string, unknown>;
      defaultKinds?: AlertKind[];
      enabled?: boolean;
    },
  ): Promise<ChannelRecord> {
    const current = await this.get(ownerId, id);
    let settings = {};
    if (patch.settings) {
      const split = this.validate(current.type, patch.settings, current);
      await this.assertDestination(current.type, split.config, split.secrets);
      settings = { config: split.config, secrets: split.secrets };
    }
    const updated = await this.channels.updateOwned(id, ownerId, {
      name: patch.name,
      defaultKinds: patch.defaultKinds,
      enabled: patch.enabled,
      ...settings,
    });
    if (!updated) throw notFound();
    return updated;
  }

  async remove(ownerId: string, id: string): Promise<void> {
    if (!(await this.channels.deleteOwned(id, ownerId))) throw notFound();
  }

  /** Sends a test notification now, through the same sender and guard as alerts. */
  async test(ownerId: string, id: string) {
    const channel = await this.get(ownerId, id);
    this.rateLimitTests(ownerId);
    const now = this.clock.now();
    const publicUrl = this.config.mail.publicUrl;
    const message: NotifyMessage = {
      event: 'test',
      deliveryId: `test-${channel.id}-${now}`,
      alertId: '00000000-0000-0000-0000-000000000000',
      kind: 'DOWN',
      region: null,
      round: 0,
      at: new Date(now).toISOString(),
      tally: { up: 0, down: 0, total: 0 },
      reminder: 0,
      incidentKey: `test:${channel.id}`,
      site: { id: channel.id, name: channel.name, url: publicUrl },
      link: siteLink(publicUrl, channel.id).replace(
        '/api/websites/',
        '/api/notifications/channels/',
      ),
    };
    const out = await this.sender.send(channel, message);
    if (out.ok) await this.channels.markWorking(channel.id, new Date(now));
    return {
      delivered: out.ok,
      statusCode: out.statusCode,
      error: out.ok ? null : out.error,
      ms: out.ms,
    };
  }

  async siteSettings(ownerId: string, siteId: string) {
    if (!(await this.channels.siteOwned(siteId, ownerId))) throw siteNotFound();
    const [routes, reminder, channels] = await Promise.all([
      this.channels.routesOf(siteId),
      this.channels.reminderOf(siteId),
      this.channels.listOwned(ownerId),
    ]);
    const byChannel = new Map(routes.map((r) => [r.channelId, r.kinds]));
    return {
      siteId,
      reminderEveryMinutes: reminder,
      routes,
      effective: channels
        .filter((c) => c.enabled)
        .map((c) => {
          const own = byChannel.get(c.id);
          return {
            channelId: c.id,
            name: c.name,
            type: c.type,
            kinds: own ?? c.defaultKinds,
            source: own ? ('site' as const) : ('default' as const),
          };
        })
        .filter((e) => e.kinds.length > 0),
    };
  }

  async saveSiteSettings(
    ownerId: string,
    siteId: string,
    change: {
      reminderEveryMinutes?: number | null;
      routes?: { channelId: string; kinds: AlertKind[] }[];
    },
  ) {
    if (!(await this.channels.siteOwned(siteId, ownerId))) throw siteNotFound();
    if (change.routes) {
      const mine = new Set((await this.channels.listOwned(ownerId)).map((c) => c.id));
      const unknown = change.routes.findIndex((r) => !mine.has(r.channelId));
      if (unknown >= 0) {
        throw new DomainError('NOT_FOUND', 'no such notification channel for this user', [
          { path: `routes.${unknown}.channelId`, message: 'no such channel' },
        ]);
      }
    }
    await this.channels.saveSiteSettings(siteId, change);
    return this.siteSettings(ownerId, siteId);
  }

  private validate(
    type: ChannelType,
    settings: Record<string, unknown>,
    previous?: ChannelRecord,
  ): { config: Record<string, unknown>; secrets: Record<string, unknown> } {
    const split = splitSettings(type, settings, previous);
    if (!split.ok)
      throw new DomainError('VALIDATION_FAILED', `invalid ${type} settings`, split.issues);
    const n = this.config.notify;
    const mustStart = (field: string, base: string) => {
      const url = String(split.secrets[field]);
      if (!url.startsWith(base)) {
        throw new DomainError('VALIDATION_FAILED', `invalid ${type} settings`, [
          {
            path: `settings.${field}`,
            message: `expected a ${type} webhook URL starting with ${base}`,
          },
        ]);
      }
    };
    if (type === 'SLACK') mustStart('webhookUrl', n.slackBaseUrl);
    if (type === 'DISCORD') mustStart('webhookUrl', n.discordBaseUrl);
    return split;
  }

  /** The SSRF guard on the URL this channel will call, with a 422 naming why. */
  private async assertDestination(
    type: ChannelType,
    config: Record<string, unknown>,
    secrets: Record<string, unknown>,
  ): Promise<void> {
    const n = this.config.notify;
    const [field, url] =
      type === 'WEBHOOK'
        ? ['url', String(config.url)]
        : type === 'TELEGRAM'
          ? ['', n.telegramApiUrl]
          : type === 'PAGERDUTY'
            ? ['', n.pagerDutyEventsUrl]
            : ['webhookUrl', String(secrets.webhookUrl)];
    try {
      await assertPublicUrl(
        url,
        (h) => this.dns.resolveAll(h),
        this.config.ping.allowPrivateTargets,
      );
    } catch (e) {
      const host = hostOf(url);
      let why: string;
      if (e instanceof BlockedTargetError) {
        why = e.address
          ? `host ${host} resolves to ${e.address}, a ${e.ipClass} address`
          : e.message;
      } else if (e instanceof DnsLookupError) {
        why = `host ${host} does not resolve (${e.code})`;
      } else throw e;
      const message = `destination not allowed: ${why}; notifications go to public addresses only`;
      throw new DomainError('TARGET_NOT_ALLOWED', message, [
        { path: field ? `settings.${field}` : 'type', message },
      ]);
    }
  }

  private rateLimitTests(ownerId: string): void {
    const now = Date.now();
    const recent = (this.testLog.get(ownerId) ?? []).filter((t) => now - t < 60_000);
    if (recent.length >= TESTS_PER_MINUTE) {
      throw new DomainError(
        'RATE_LIMITED',
        `at most ${TESTS_PER_MINUTE} test notifications per minute`,
        undefined,
        60,
      );
    }
    recent.push(now);
    this.testLog.set(ownerId, recent);
    // Bounded: forget users idle for a minute.
    if (this.testLog.size > 10_000) {
      for (const [k, v] of this.testLog)
        if (v.every((t) => now - t >= 60_000)) this.testLog.delete(k);
    }
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function notFound(): DomainError {
  return new DomainError('NOT_FOUND', 'no such notification channel for this user');
}

function siteNotFound(): DomainError {
  return new DomainError('NOT_FOUND', 'no such site for this user');
}
