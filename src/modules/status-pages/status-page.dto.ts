import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { dayBarSchema, incidentSchema, regionStateSchema } from '@/modules/dashboard/dashboard.dto';

export const MAX_SITES_PER_PAGE = 100;
export const MAX_PAGES_PER_OWNER = 50;
export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{1,62}[a-z0-9])$/;

const slug = z
  .string()
  .regex(
    SLUG_PATTERN,
    '3 to 64 lowercase letters, digits and hyphens, not starting or ending with a hyphen',
  )
  .describe('the page is public at /status/<slug>');
const title = z.string().trim().min(1).max(200);
const description = z.string().trim().max(2000).nullable();
const showUrls = z.boolean().describe('show the sites’ URLs on the public page (default false)');
const siteIds = z
  .array(z.uuid({ error: 'expected a site id' }))
  .max(MAX_SITES_PER_PAGE)
  .refine((ids) => new Set(ids).size === ids.length, { message: 'a site is listed twice' })
  .describe(`your sites on the page, in display order (at most ${MAX_SITES_PER_PAGE})`);

export const createStatusPageSchema = z.strictObject({
  slug,
  title,
  description: description.optional(),
  showUrls: showUrls.default(false),
  siteIds: siteIds.default([]),
});
export class CreateStatusPageDto extends createZodDto(createStatusPageSchema) {}

export const updateStatusPageSchema = z
  .strictObject({
    slug: slug.optional(),
    title: title.optional(),
    description: description.optional(),
    showUrls: showUrls.optional(),
    siteIds: siteIds.optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: 'at least one field to change' });
export class UpdateStatusPageDto extends createZodDto(updateStatusPageSchema) {}

export const statusPageSchema = z.object({
  id: z.uuid(),
  slug: z.string(),
  title: z.string(),
  description: z.string().nullable(),
  showUrls: z.boolean(),
  siteIds: z.array(z.uuid()),
  publicPath: z.string().describe('where the public page is, e.g. /status/acme'),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export class StatusPageDto extends createZodDto(statusPageSchema) {}

export const statusPageListSchema = z.object({ items: z.array(statusPageSchema) });
export class StatusPageListDto extends createZodDto(statusPageListSchema) {}

const verdict = z.enum(['UP', 'DOWN', 'UNKNOWN']);

export const publicSiteSchema = z.object({
  id: z.uuid().describe('for badges: /api/badge/<id>/status.svg'),
  name: z.string(),
  url: z.string().optional().describe('only when the page owner chose to show URLs'),
  paused: z.boolean(),
  status: z
    .object({
      verdict,
      since: z.iso.datetime().nullable(),
      regions: z.record(z.string(), regionStateSchema),
    })
    .nullable(),
  uptime: z.object({
    '24h': z.number().nullable(),
    '7d': z.number().nullable(),
    '30d': z.number().nullable(),
    '90d': z.number().nullable(),
  }),
  days: z.array(dayBarSchema).describe('90 daily bars, today last'),
  incidents: z.array(incidentSchema).describe('open or ended in the last 90 days, newest first'),
});

export const publicMaintenanceSchema = z.object({
  title: z.string(),
  start: z.iso.datetime(),
  end: z.iso.datetime(),
  activeNow: z.boolean(),
  siteIds: z
    .array(z.uuid())
    .describe('the sites of this page it covers; empty: announced for the page as a whole'),
});

export const publicStatusPageSchema = z.object({
  slug: z.string(),
  title: z.string(),
  description: z.string().nullable(),
  state: z
    .enum(['operational', 'degraded', 'outage', 'maintenance', 'unknown'])
    .describe(
      'outage: a site is DOWN outside maintenance; maintenance: every DOWN site is in a maintenance window in progress; degraded: a region of a site is DOWN',
    ),
  generatedAt: z.iso.datetime(),
  sites: z.array(publicSiteSchema),
  maintenance: z
    .array(publicMaintenanceSchema)
    .describe('in progress, then the next starting within 7 days; at most 10'),
});
export class PublicStatusPageDto extends createZodDto(publicStatusPageSchema) {}

export type CreateStatusPage = z.infer<typeof createStatusPageSchema>;
export type UpdateStatusPage = z.infer<typeof updateStatusPageSchema>;
export type StatusPageView = z.infer<typeof statusPageSchema>;
export type PublicStatusPage = z.infer<typeof publicStatusPageSchema>;
export type PublicSite = z.infer<typeof publicSiteSchema>;
export type PublicMaintenance = z.infer<typeof publicMaintenanceSchema>;
