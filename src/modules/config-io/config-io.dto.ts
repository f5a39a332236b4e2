import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

export const exportQuerySchema = z.strictObject({
  format: z.enum(['yaml', 'json']).default('yaml'),
});
export class ExportQueryDto extends createZodDto(exportQuerySchema) {}

export const importQuerySchema = z.strictObject({
  dryRun: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe('true: write nothing, answer what would change'),
});
export class ImportQueryDto extends createZodDto(importQuerySchema) {}

const item = z.object({
  name: z.string(),
  action: z.enum(['create', 'update', 'unchanged']),
  changes: z.array(z.string()).describe('fields that differ (update)'),
  pushToken: z
    .string()
    .optional()
    .describe('a push site this import created: its heartbeat token, shown this once'),
});

export const importReportSchema = z.object({
  dryRun: z.boolean(),
  sites: z.array(item),
  channels: z.array(item),
});
export class ImportReportDto extends createZodDto(importReportSchema) {}
