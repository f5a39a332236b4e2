/**
 * One notification as every channel renders it: the alert (or a reminder of it, or a test),
 * the site, and the keys that make repeats recognisable (delivery id, incident key). Pure.
 */
import { HEADLINE, VERDICT } from '@/modules/alerts/alert-mail.template';
import type { AlertKind, AlertTally } from '@/modules/alerts/alert-events';

export type NotifyEvent = 'alert' | 'reminder' | 'test';

export interface NotifyMessage {
  event: NotifyEvent;
  /** the delivery row id: the same on every attempt, so receivers can deduplicate */
  deliveryId: string;
  alertId: string;
  kind: AlertKind;
  region: string | null;
  round: number;
  /** when the verdict was reached (ISO 8601) */
  at: string;
  tally: AlertTally;
  /** 0 for the alert itself, n for the n-th reminder */
  reminder: number;
  /** site, region and opening DOWN round: one PagerDuty incident */
  incidentKey: string;
  site: { id: string; name: string; url: string };
  /** the site's page under PUBLIC_URL */
  link: string;
}

export function isProblemKind(kind: AlertKind): boolean {
  return kind === 'DOWN' || kind === 'REGION_DOWN';
}

/** One line: what happened to which site. */
export function headline(m: NotifyMessage): string {
  const name = oneLine(m.site.name || m.site.url);
  if (m.event === 'test') return `Test notification for ${name}: this channel works`;
  if (m.event === 'reminder') {
    return `[REMINDER ${m.reminder}] ${name} is still DOWN (since ${m.at})`;
  }
  return `[${m.kind}] ${name} ${HEADLINE[m.kind](m.region)}`;
}

/** A few lines of detail for channels that show more than a headline. */
export function detailLines(m: NotifyMessage): [string, string][] {
  const { up, down, total, quorum } = m.tally;
  return [
    ['URL', m.site.url],
    ['Region', m.region ?? 'all regions'],
    ['Verdict', m.event === 'test' ? 'test' : VERDICT[m.kind]],
    ['Time', m.at],
    ['Votes', `${down} down, ${up} up of ${total}${quorum ? ` (quorum ${quorum})` : ''}`],
    ['Round', String(m.round)],
    ['Details', m.link],
  ];
}

export function plainText(m: NotifyMessage): string {
  return `${headline(m)}\n${detailLines(m)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n')}`;
}

/** The JSON body of the generic webhook (documented in docs/events.md). */
export function webhookBody(m: NotifyMessage, sentAt: string) {
  return {
    v: 1,
    event: m.event,
    deliveryId: m.deliveryId,
    sentAt,
    alert: {
      alertId: m.alertId,
      kind: m.kind,
      region: m.region,
      round: m.round,
      at: m.at,
      tally: m.tally,
      reminder: m.reminder,
      incidentKey: m.incidentKey,
    },
    site: m.site,
    link: m.link,
    text: headline(m),
  };
}

export function oneLine(s: string): string {
  return s.replace(/[\r\n\t]+/g, ' ').trim();
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
