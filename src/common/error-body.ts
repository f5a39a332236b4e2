import { z } from 'zod';

/** The one JSON shape of every error response. */
export const errorBodySchema = z.object({
  statusCode: z.number().int(),
  error: z.string().describe('machine-readable code, e.g. VALIDATION_FAILED'),
  message: z.string(),
  details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;
