import { z } from 'zod';

/** A monitored URL: absolute, http or https, with a host, at most 2048 characters. */
export const httpUrlSchema = z
  .string()
  .trim()
  .min(1)
  .max(2048, 'at most 2048 characters')
  .refine(
    (v) => {
      try {
        const u = new URL(v);
        return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname.length > 0;
      } catch {
        return false;
      }
    },
    { message: 'expected an absolute http:// or https:// URL' },
  );
