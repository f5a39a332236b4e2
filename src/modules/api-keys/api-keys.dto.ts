import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

export const createApiKeySchema = z.strictObject({
  name: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .regex(/^[^\p{Cc}]*$/u, 'no control characters')
    .describe('unique per account, e.g. "ci-deploy"'),
  scope: z
    .enum(['read', 'write'])
    .describe('read: GET/HEAD only (anything else is 403); write: every route a user may call'),
  expiresAt: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('when the key stops working; default 90 days from now, at most 366 days'),
});
export class CreateApiKeyDto extends createZodDto(createApiKeySchema) {}

const apiKeyFields = {
  id: z.uuid(),
  name: z.string(),
  scope: z.enum(['read', 'write']),
  hint: z.string().describe('the first characters of the key, to tell keys apart'),
  expiresAt: z.iso.datetime().nullable(),
  expired: z.boolean(),
  lastUsedAt: z.iso.datetime().nullable().describe('to within a minute'),
  createdAt: z.iso.datetime(),
};

export const apiKeySchema = z.object(apiKeyFields);
export class ApiKeyDto extends createZodDto(apiKeySchema) {}

export const issuedApiKeySchema = z.object({
  ...apiKeyFields,
  key: z
    .string()
    .describe(
      'the key, shown this once: send it as "Authorization: Bearer <key>"; only its hash is stored',
    ),
});
export class IssuedApiKeyDto extends createZodDto(issuedApiKeySchema) {}

export const apiKeyListSchema = z.object({ items: z.array(apiKeySchema) });
export class ApiKeyListDto extends createZodDto(apiKeyListSchema) {}
