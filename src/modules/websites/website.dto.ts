import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { httpUrlSchema } from '@/common/http-url.schema';

export const MIN_INTERVAL_MS = 10_000;
export const MAX_INTERVAL_MS = 86_400_000;

const fields = {
  url: httpUrlSchema,
  name: z.string().trim().min(1).max(200),
  intervalMs: z
    .number()
    .int()
    .min(MIN_INTERVAL_MS)
    .max(MAX_INTERVAL_MS)
    .describe('check interval, 10 s to 24 h'),
  timeoutMs: z.number().int().min(500).max(60_000).describe('hard timeout of one check'),
  expectedStatus: z
    .array(z.number().int().min(100).max(599))
    .max(32)
    .describe('accepted HTTP status codes; empty means any 2xx'),
  keyword: z.string().min(1).max(1024).nullable().describe('text that must appear in the body'),
  paused: z.boolean(),
};

const timeoutBelowInterval = (v: { intervalMs?: number; timeoutMs?: number }) =>
  v.intervalMs === undefined || v.timeoutMs === undefined || v.timeoutMs < v.intervalMs;

export const createWebsiteSchema = z
  .strictObject({
    url: fields.url,
    name: fields.name.optional(),
    intervalMs: fields.intervalMs.default(60_000),
    timeoutMs: fields.timeoutMs
      .optional()
      .describe('hard timeout of one check; default min(10 s, intervalMs / 2)'),
    expectedStatus: fields.expectedStatus.default([]),
    keyword: fields.keyword.optional(),
    paused: fields.paused.default(false),
  })
  .refine(timeoutBelowInterval, {
    message: 'timeoutMs must be below intervalMs',
    path: ['timeoutMs'],
  });
export class CreateWebsiteDto extends createZodDto(createWebsiteSchema) {}

export const updateWebsiteSchema = z
  .strictObject({
    url: fields.url.optional(),
    name: fields.name.optional(),
    intervalMs: fields.intervalMs.optional(),
    timeoutMs: fields.timeoutMs.optional(),
    expectedStatus: fields.expectedStatus.optional(),
    keyword: fields.keyword.optional(),
    paused: fields.paused.optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: 'at least one field to change' })
  .refine(timeoutBelowInterval, {
    message: 'timeoutMs must be below intervalMs',
    path: ['timeoutMs'],
  });
export class UpdateWebsiteDto extends createZodDto(updateWebsiteSchema) {}

export const pauseSchema = z.strictObject({ paused: z.boolean() });
export class PauseDto extends createZodDto(pauseSchema) {}

export const listQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});
export class ListQueryDto extends createZodDto(listQuerySchema) {}

export const websiteSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  url: z.string(),
  intervalMs: z.number().int(),
  timeoutMs: z.number().int(),
  expectedStatus: z.array(z.number().int()),
  keyword: z.string().nullable(),
  paused: z.boolean(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export class WebsiteDto extends createZodDto(websiteSchema) {}

export const websitePageSchema = z.object({
  items: z.array(websiteSchema),
  nextCursor: z.string().nullable(),
});
export class WebsitePageDto extends createZodDto(websitePageSchema) {}
