/**
 * Export and import of a user's sites and channels, through WebsitesService and ChannelsService
 * so the same validation, SSRF guard and quotas apply as over REST. Import is idempotent by
 * name: an unknown name is created, a known one updated when it differs, else left alone;
 * nothing the document does not name is touched. A plan is computed first (the dry-run
 * answer); everything that can be checked without writing is checked before the first write
 * (the document, duplicate names, secrets of new channels, quotas). A write the services
 * refuse (e.g. an address the SSRF guard rejects) stops the import there: the error names
 * the entry and what was applied before it, and re-running the fixed document finishes it.
 */
import { isDeepStrictEqual } from 'node:util';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '@/config/app-config';
import { DomainError } from '@/common/domain-error';
import { channelFields, ChannelType } from '@/modules/notifications/channel-config';
import type { ChannelRecord } from '@/modules/notifications/channel.repository';
import { ChannelsService } from '@/modules/notifications/channels.service';
import { DEFAULT_CHECK } from '@/modules/ping/check-spec';
import type { WebsiteRecord } from '@/modules/websites/website.repository';
import { defaultTimeoutMs, WebsitesService } from '@/modules/websites/websites.service';
import { ChannelEntry, ConfigDocument, DOCUMENT_VERSION, SiteEntry } from './config-document';

export type Action = 'create' | 'update' | 'unchanged';

export interface PlannedItem {
  name: string;
  action: Action;
  /** fields that differ (update) */
  changes: string[];
  /** a push site this import created: its token, shown this once (exports never carry it) */
  pushToken?: string;
}

export interface ImportReport {
  dryRun: boolean;
  sites: PlannedItem[];
  channels: PlannedItem[];
}

const SITE_FIELDS = [
  'url',
  'check',
  'intervalMs',
  'timeoutMs',
  'expectedStatus',
  'keyword',
  'paused',
  'downAfterRounds',
  'upAfterRounds',
  'retries',
  'retryDelayMs',
] as const;

@Injectable()
export class ConfigIoService {
  constructor(
    private readonly websites: WebsitesService,
    private readonly channels: ChannelsService,
    private readonly config: AppConfig,
  ) {}

  async export(ownerId: string): Promise<object> {
    const [sites, channels] = await Promise.all([
      this.websites.listAll(ownerId),
      this.channels.list(ownerId),
    ]);
    return {
      version: DOCUMENT_VERSION,
      sites: sites
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((s) => ({
          name: s.name,
          url: s.url,
          ...(s.check && !isDeepStrictEqual(s.check, DEFAULT_CHECK) ? { check: s.check } : {}),
          intervalMs: s.intervalMs,
          timeoutMs: s.timeoutMs,
          expectedStatus: s.expectedStatus,
          keyword: s.keyword,
          paused: s.paused,
          downAfterRounds: s.downAfterRounds,
          upAfterRounds: s.upAfterRounds,
          retries: s.retries,
          retryDelayMs: s.retryDelayMs,
        })),
      channels: channels
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((c) => ({
          name: c.name,
          type: c.type,
          enabled: c.enabled,
          defaultKinds: c.defaultKinds,
          settings: c.config,
          secretFields: secretFieldsOf(c.type),
        })),
    };
  }

  async import(ownerId: string, doc: ConfigDocument, dryRun: boolean): Promise<ImportReport> {
    const [sites, channels] = await Promise.all([
      this.websites.listAll(ownerId),
      this.channels.list(ownerId),
    ]);
    const siteByName = byName(sites, 'sites');
    const channelByName = byName(channels, 'channels');

    const sitePlan = doc.sites.map((entry) => planSite(entry, siteByName(entry.name)));
    const channelPlan = doc.channels.map((entry, i) =>
      planChannel(entry, channelByName(entry.name), i),
    );
    this.checkQuotas(sites.length, sitePlan, channels.length, channelPlan);
    const report: ImportReport = {
      dryRun,
      sites: sitePlan.map(({ item }) => item),
      channels: channelPlan.map(({ item }) => item),
    };
    if (dryRun) return report;

    let applied = 0;
    const step = async <T>(path: string, write: () => Promise<T>): Promise<T> => {
      try {
        const done = await write();
        applied += 1;
        return done;
      } catch (e) {
        if (!(e instanceof DomainError)) throw e;
        const note = `${applied} earlier change${applied === 1 ? ' was' : 's were'} applied; fix the entry and import again`;
        throw new DomainError(e.code, `${path}: ${e.message} (${note})`, [
          ...(e.details ?? []).map((d) => ({ ...d, path: `${path}.${d.path}` })),
          { path, message: e.message },
        ]);
      }
    };
    for (const [i, { item, entry, current }] of sitePlan.entries()) {
      if (item.action === 'create') {
        const created = await step(`sites.${i}`, () => this.websites.create(ownerId, entry));
        if (created.pushToken) item.pushToken = created.pushToken;
      }
      if (item.action === 'update')
        await step(`sites.${i}`, () =>
          this.websites.update(
            ownerId,
            current!.id,
            pick(entry, item.changes as (keyof SiteEntry)[]),
          ),
        );
    }
    for (const [i, { item, entry, current }] of channelPlan.entries()) {
      if (item.action === 'create')
        await step(`channels.${i}`, () =>
          this.channels.create(ownerId, {
            name: entry.name,
            type: entry.type,
            settings: entry.settings,
            defaultKinds: entry.defaultKinds,
            enabled: entry.enabled,
          }),
        );
      if (item.action === 'update')
        await step(`channels.${i}`, () =>
          this.channels.update(ownerId, current!.id, {
            settings: entry.settings,
            defaultKinds: entry.defaultKinds,
            enabled: entry.enabled,
          }),
        );
    }
    return report;
  }

  private checkQuotas(
    siteCount: number,
    sites: { item: PlannedItem }[],
    channelCount: number,
    channels: { item: PlannedItem }[],
  ): void {
    const newSites = sites.filter((s) => s.item.action === 'create').length;
    const maxSites = this.config.quotas.sitesPerUser;
    if (siteCount + newSites > maxSites)
      throw new DomainError(
        'QUOTA_EXCEEDED',
        `the import would give the account ${siteCount + newSites} sites; at most ${maxSites} (MAX_SITES_PER_USER)`,
      );
    const newChannels = channels.filter((c) => c.item.action === 'create').length;
    const maxChannels = this.config.notify.maxChannelsPerUser;
    if (channelCount + newChannels > maxChannels)
      throw new DomainError(
        'QUOTA_EXCEEDED',
        `the import would give the account ${channelCount + newChannels} channels; at most ${maxChannels} (NOTIFY_MAX_CHANNELS_PER_USER)`,
      );
  }
}

function planSite(entry: SiteEntry, current: WebsiteRecord | undefined) {
  // The document is the desired state: an omitted timeout is the default a new site gets.
  const desired = {
    ...entry,
    timeoutMs: entry.timeoutMs ?? defaultTimeoutMs(entry.intervalMs),
    check: entry.check ?? DEFAULT_CHECK,
  };
  const full = { ...desired, keyword: desired.keyword ?? null };
  if (!current) {
    const item: PlannedItem = { name: entry.name, action: 'create', changes: [] };
    return { item, entry: desired, current };
  }
  const changes = SITE_FIELDS.filter((f) => !isDeepStrictEqual(full[f], current[f]));
  const item: PlannedItem = {
    name: entry.name,
    action: changes.length ? 'update' : 'unchanged',
    changes,
  };
  return { item, entry: full, current };
}

function planChannel(entry: ChannelEntry, current: ChannelRecord | undefined, index: number) {
  const secretNames = secretFieldsOf(entry.type);
  const given = (k: string) => entry.settings[k] !== undefined;
  if (!current) {
    const shape = channelFields[entry.type].secret.shape as Record<
      string,
      { safeParse(v: unknown): { success: boolean } }
    >;
    const missing = secretNames.filter((k) => !given(k) && !shape[k].safeParse(undefined).success);
    if (missing.length > 0)
      throw new DomainError(
        'VALIDATION_FAILED',
        `channels.${index} ("${entry.name}") is new: its secrets are needed (exports never contain them)`,
        missing.map((k) => ({
          path: `channels.${index}.settings.${k}`,
          message: 'required for a new channel',
        })),
      );
    return { item: { name: entry.name, action: 'create' as Action, changes: [] }, entry, current };
  }
  if (current.type !== entry.type)
    throw new DomainError(
      'CONFLICT',
      `channels.${index} ("${entry.name}") is a ${current.type} channel; a channel's type cannot change`,
      [{ path: `channels.${index}.type`, message: `the existing channel is ${current.type}` }],
    );
  const publicNames = Object.keys(channelFields[entry.type].public.shape);
  const changes: string[] = [];
  for (const k of publicNames)
    if (!isDeepStrictEqual(entry.settings[k], current.config[k])) changes.push(`settings.${k}`);
  for (const k of secretNames)
    if (given(k) && !isDeepStrictEqual(entry.settings[k], current.secrets[k]))
      changes.push(`settings.${k}`);
  if (!isDeepStrictEqual([...entry.defaultKinds].sort(), [...current.defaultKinds].sort()))
    changes.push('defaultKinds');
  if (entry.enabled !== current.enabled) changes.push('enabled');
  return {
    item: {
      name: entry.name,
      action: (changes.length ? 'update' : 'unchanged') as Action,
      changes,
    },
    entry,
    current,
  };
}

function secretFieldsOf(type: ChannelType): string[] {
  return Object.keys(channelFields[type].secret.shape);
}

/** Finds the user's item of a name; CONFLICT when the user has several of that name. */
function byName<T extends { name: string }>(
  items: T[],
  what: string,
): (name: string) => T | undefined {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(item.name, [...(groups.get(item.name) ?? []), item]);
  return (name) => {
    const found = groups.get(name) ?? [];
    if (found.length > 1)
      throw new DomainError(
        'CONFLICT',
        `the account has several ${what} named "${name}": rename them before importing by name`,
      );
    return found[0];
  };
}

function pick<T extends object>(o: T, keys: (keyof T)[]): Partial<T> {
  return Object.fromEntries(keys.map((k) => [k, o[k]])) as Partial<T>;
}
