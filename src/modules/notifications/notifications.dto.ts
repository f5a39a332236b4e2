/**
 * Request and response schemas of the notifications API (channels, per-site routing and
 * reminders, delivery log); the same zod schemas validate input and feed OpenAPI.
 */
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { ALERT_KINDS } from '@/modules/alerts/alert-events';
import { CHANNEL_TYPES } from './channel-config';

const kinds = z
  .array(z.enum(ALERT_KINDS))
  .max(4)
  .transform((k) => [...new Set(k)])
  .describe('alert kinds: DOWN, RECOVERED, REGION_DOWN, REGION_RECOVERED');

const settings = z
  .record(z.string().max(64), z.unknown())
  .describe(
    'per type: WEBHOOK {url, signingSecret, headers?, timeoutMs?}; SLACK, DISCORD {webhookUrl}; ' +
      'TELEGRAM {botToken, chatId}; PAGERDUTY {routingKey, severity?}; MATTERMOST {webhookUrl, channel?, username?}. ' +
      'Secrets (signingSecret, headers, webhookUrl, botToken, routingKey) are never shown again; on update, omit one to keep it.',
  );

export const createChannelSchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  type: z.enum(CHANNEL_TYPES),
  settings,
  defaultKinds: kinds
    .default(['DOWN', 'RECOVERED'])
    .describe(
      'kinds this channel gets for sites without their own routing; [] keeps it out of the default set',
    ),
  enabled: z.boolean().default(true),
});
export class CreateChannelDto extends createZodDto(createChannelSchema) {}

export const updateChannelSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(100).optional(),
    settings: settings.optional(),
    defaultKinds: kinds.optional(),
    enabled: z.boolean().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: 'at least one field to change' });
export class UpdateChannelDto extends createZodDto(updateChannelSchema) {}

export const channelSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  type: z.enum(CHANNEL_TYPES),
  settings: z.record(z.string(), z.unknown()).describe('secrets masked'),
  defaultKinds: z.array(z.enum(ALERT_KINDS)),
  enabled: z.boolean(),
  state: z
    .enum(['OK', 'FAILING'])
    .describe('FAILING: no success for NOTIFY_CHANNEL_FAILING_AFTER_MS'),
  failingSince: z.iso.datetime().nullable().describe('first failure of the current streak'),
  lastFailureAt: z.iso.datetime().nullable(),
  lastSuccessAt: z.iso.datetime().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export class ChannelDto extends createZodDto(channelSchema) {}

export const channelListSchema = z.object({ items: z.array(channelSchema) });
export class ChannelListDto extends createZodDto(channelListSchema) {}

export const testResultSchema = z.object({
  delivered: z.boolean(),
  statusCode: z.number().int().nullable(),
  error: z.string().nullable(),
  ms: z.number().int(),
});
export class TestResultDto extends createZodDto(testResultSchema) {}

const route = z.strictObject({ channelId: z.uuid(), kinds });

export const siteNotificationsInputSchema = z
  .strictObject({
    reminderEveryMinutes: z
      .number()
      .int()
      .min(1)
      .max(1_440)
      .nullable()
      .optional()
      .describe('while the site stays DOWN, remind every N minutes; null: off'),
    routes: z
      .array(route)
      .max(100)
      .optional()
      .describe("replaces the site's routes; a channel without one gets its defaultKinds"),
  })
  .refine((v) => Object.keys(v).length > 0, { message: 'at least one field to change' })
  .refine((v) => !v.routes || new Set(v.routes.map((r) => r.channelId)).size === v.routes.length, {
    message: 'each channel at most once',
    path: ['routes'],
  });
export class SiteNotificationsInputDto extends createZodDto(siteNotificationsInputSchema) {}

export const siteNotificationsSchema = z.object({
  siteId: z.uuid(),
  reminderEveryMinutes: z.number().int().nullable(),
  routes: z.array(z.object({ channelId: z.uuid(), kinds: z.array(z.enum(ALERT_KINDS)) })),
  effective: z
    .array(
      z.object({
        channelId: z.uuid(),
        name: z.string(),
        type: z.enum(CHANNEL_TYPES),
        kinds: z.array(z.enum(ALERT_KINDS)),
        source: z.enum(['site', 'default']),
      }),
    )
    .describe('what each enabled channel gets for this site'),
});
export class SiteNotificationsDto extends createZodDto(siteNotificationsSchema) {}

export const deliveryQuerySchema = z.strictObject({
  siteId: z.uuid().optional(),
  alertId: z.uuid().optional(),
  channelId: z.uuid().optional(),
  status: z.enum(['PENDING', 'SENT', 'FAILED', 'CANCELLED']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(200).optional(),
});
export class DeliveryQueryDto extends createZodDto(deliveryQuerySchema) {}

export const deliverySchema = z.object({
  id: z.uuid(),
  alertId: z.uuid(),
  siteId: z.uuid(),
  kind: z.enum(ALERT_KINDS),
  round: z.number().int(),
  reminder: z.number().int().describe('0: the alert itself; n: its n-th reminder'),
  channel: z.object({
    id: z.uuid(),
    name: z.string(),
    type: z.enum(CHANNEL_TYPES),
    state: z.enum(['OK', 'FAILING']),
  }),
  status: z.enum(['PENDING', 'SENT', 'FAILED', 'CANCELLED']),
  attempts: z.number().int(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  nextAttemptAt: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
  sentAt: z.iso.datetime().nullable(),
  recentAttempts: z
    .array(
      z.object({
        at: z.string(),
        statusCode: z.number().int().nullable(),
        error: z.string().nullable(),
        ms: z.number().int(),
      }),
    )
    .describe('the last 10 attempts, newest first'),
});
export const deliveryPageSchema = z.object({
  items: z.array(deliverySchema),
  nextCursor: z.string().nullable(),
});
export class DeliveryPageDto extends createZodDto(deliveryPageSchema) {}
