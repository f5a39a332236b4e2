/** Maintenance window input and output: one-off (startsAt, endsAt) or recurring (cron). */
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { cronProblem } from './maintenance-schedule';

const when = z.iso.datetime({ offset: true }).transform((v) => new Date(v));

export const maintenanceInputSchema = z
  .strictObject({
    title: z.string().trim().min(1).max(200),
    siteId: z.uuid().optional().describe('the site whose alerts are held'),
    statusPageId: z.uuid().optional().describe('a status page that shows the maintenance'),
    startsAt: when.optional().describe('one-off: start (ISO 8601)'),
    endsAt: when.optional().describe('one-off: end'),
    cron: z
      .string()
      .trim()
      .max(120)
      .optional()
      .describe('recurring: five-field cron of each start, e.g. "0 2 * * 0" (Sundays 02:00)'),
    durationMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 1_440)
      .optional()
      .describe('recurring: length'),
    timeZone: z
      .string()
      .max(64)
      .default('UTC')
      .describe('recurring: IANA zone the cron is read in'),
    activeFrom: when.optional().describe('recurring: no occurrence before'),
    activeUntil: when.optional().describe('recurring: none after'),
  })
  .superRefine((v, ctx) => {
    const issue = (path: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [path], message });
    if (!v.siteId && !v.statusPageId) issue('siteId', 'siteId or statusPageId is required');
    const oneOff = v.startsAt !== undefined || v.endsAt !== undefined;
    const recurring = v.cron !== undefined || v.durationMinutes !== undefined;
    if (oneOff === recurring) {
      issue(
        'cron',
        'give either startsAt and endsAt (one-off) or cron and durationMinutes (recurring)',
      );
      return;
    }
    if (oneOff) {
      if (!v.startsAt || !v.endsAt)
        issue(v.startsAt ? 'endsAt' : 'startsAt', 'both startsAt and endsAt');
      else if (v.endsAt <= v.startsAt) issue('endsAt', 'must be after startsAt');
      else if (v.endsAt.getTime() - v.startsAt.getTime() > 30 * 86_400_000)
        issue('endsAt', 'at most 30 days');
      if (v.activeFrom || v.activeUntil) issue('activeFrom', 'only for recurring windows');
    } else {
      if (!v.cron || !v.durationMinutes)
        issue(v.cron ? 'durationMinutes' : 'cron', 'both cron and durationMinutes');
      else {
        const problem = cronProblem(v.cron, v.timeZone);
        if (problem) issue(problem.startsWith('unknown time zone') ? 'timeZone' : 'cron', problem);
      }
      if (v.activeFrom && v.activeUntil && v.activeUntil <= v.activeFrom)
        issue('activeUntil', 'must be after activeFrom');
    }
  });
export class MaintenanceInputDto extends createZodDto(maintenanceInputSchema) {}
export type MaintenanceInput = z.infer<typeof maintenanceInputSchema>;

export const maintenanceQuerySchema = z.strictObject({
  siteId: z.uuid().optional(),
  statusPageId: z.uuid().optional(),
});
export class MaintenanceQueryDto extends createZodDto(maintenanceQuerySchema) {}

const occurrence = z.object({ start: z.iso.datetime(), end: z.iso.datetime() });

export const maintenanceSchema = z.object({
  id: z.uuid(),
  title: z.string(),
  siteId: z.uuid().nullable(),
  statusPageId: z.uuid().nullable(),
  startsAt: z.iso.datetime().nullable(),
  endsAt: z.iso.datetime().nullable(),
  cron: z.string().nullable(),
  durationMinutes: z.number().int().nullable(),
  timeZone: z.string().nullable(),
  activeFrom: z.iso.datetime().nullable(),
  activeUntil: z.iso.datetime().nullable(),
  activeNow: occurrence.nullable().describe('the occurrence in progress, if any'),
  upcoming: z.array(occurrence).describe('the next occurrences (up to 5, within 60 days)'),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export class MaintenanceDto extends createZodDto(maintenanceSchema) {}
export const maintenanceListSchema = z.object({ items: z.array(maintenanceSchema) });
export class MaintenanceListDto extends createZodDto(maintenanceListSchema) {}
