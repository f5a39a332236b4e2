/**
 * Schemas of GET /api/status: the query is validated before any network access
 * (http/https only, at most 2048 characters); the response is one CheckResult.
 */
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { httpUrlSchema } from '@/common/http-url.schema';

export const statusQuerySchema = z.strictObject({
  url: httpUrlSchema.optional().describe('URL to check; DEFAULT_TARGET_URL when absent'),
});
export class StatusQueryDto extends createZodDto(statusQuerySchema) {}

const failureClass = z.enum([
  'DNS',
  'TIMEOUT',
  'CONNECT',
  'TLS',
  'HTTP_STATUS',
  'KEYWORD',
  'BLOCKED',
]);

export const statusResultSchema = z.object({
  url: z.string(),
  validatorId: z.string(),
  region: z.string(),
  up: z.boolean(),
  latencyMs: z.number().int(),
  httpStatus: z.number().int().optional(),
  failure: failureClass.optional().describe('why the check failed'),
  error: z.string().optional(),
  phases: z
    .object({
      dns: z.number().optional(),
      connect: z.number().optional(),
      tls: z.number().optional(),
      firstByte: z.number().optional(),
      total: z.number(),
    })
    .describe('durations in ms; a phase that did not happen is absent'),
  checkedAt: z.iso.datetime(),
  remoteAddress: z.string().optional(),
  redirects: z.number().int().optional(),
});
export class StatusResultDto extends createZodDto(statusResultSchema) {}
