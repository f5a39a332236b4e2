/**
 * The config-as-code document: a user's sites and notification channels, as YAML or JSON.
 * Sites and channels are identified by name (unique within the document and, for import,
 * among the user's own). Channel secrets (webhook URLs with tokens, bot tokens, routing keys,
 * signing secrets, header values) are never exported: an exported channel lists their names
 * under `secretFields`; an import may carry them in `settings` (required for a new channel,
 * optional for an existing one, which keeps its stored values).
 */
import { parseDocument, stringify } from 'yaml';
import { z } from 'zod';
import { DomainError } from '@/common/domain-error';
import { parseInput } from '@/common/parse-input';
import { createChannelSchema } from '@/modules/notifications/notifications.dto';
import { createWebsiteSchema } from '@/modules/websites/website.dto';

export const DOCUMENT_VERSION = 1;
export const MAX_ITEMS = 2_000;

const siteEntry = createWebsiteSchema.safeExtend({ name: z.string().trim().min(1).max(200) });
const channelEntry = createChannelSchema;

export const configDocumentSchema = z
  .strictObject({
    version: z.literal(DOCUMENT_VERSION),
    sites: z.array(siteEntry).max(MAX_ITEMS).default([]),
    channels: z
      .array(
        // secretFields is what an export writes; it is informational on import.
        channelEntry.safeExtend({ secretFields: z.array(z.string().max(64)).max(32).optional() }),
      )
      .max(MAX_ITEMS)
      .default([]),
  })
  .superRefine((doc, ctx) => {
    for (const [list, items] of [
      ['sites', doc.sites],
      ['channels', doc.channels],
    ] as const) {
      const seen = new Map<string, number>();
      items.forEach((item, i) => {
        const first = seen.get(item.name);
        if (first !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [list, i, 'name'],
            message: `duplicate name "${item.name}" (also ${list}.${first}); import matches by name`,
          });
        else seen.set(item.name, i);
      });
    }
  });

export type ConfigDocument = z.infer<typeof configDocumentSchema>;
export type SiteEntry = ConfigDocument['sites'][number];
export type ChannelEntry = ConfigDocument['channels'][number];

export type DocumentFormat = 'yaml' | 'json';

/** Parses YAML (a superset of JSON) or an already-parsed JSON body; VALIDATION_FAILED otherwise. */
export function parseConfigDocument(body: unknown): ConfigDocument {
  let value = body;
  if (typeof body === 'string') {
    const doc = parseDocument(body, { prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0)
      throw new DomainError('VALIDATION_FAILED', 'the document is not valid YAML or JSON', [
        { path: '(body)', message: doc.errors[0].message.split('\n')[0] },
      ]);
    value = doc.toJS({ maxAliasCount: 100 });
  }
  return parseInput(configDocumentSchema, value, 'invalid config document');
}

export function formatConfigDocument(doc: object, format: DocumentFormat): string {
  return format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc, { lineWidth: 0 });
}
