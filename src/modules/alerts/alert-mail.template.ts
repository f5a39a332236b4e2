/**
 * The alert e-mail, built from the alert and the site as it is now: subject and a text and an
 * HTML body with site name and URL, region, verdict, time, tally and a link to the site's page.
 * Every value is escaped for HTML; the Message-ID depends on the alert id alone, so each retry of
 * one alert carries the same one.
 */
import type { OutgoingMail } from '@/infra/mail/mail-sender';
import type { AlertKind, HealthAlertV1 } from './alert-events';
import type { AlertRecipient } from './alert.repository';

export const HEADLINE: Record<AlertKind, (region: string | null) => string> = {
  DOWN: () => 'is DOWN',
  RECOVERED: () => 'is back UP',
  REGION_DOWN: (r) => `is unreachable from ${r}`,
  REGION_RECOVERED: (r) => `is reachable again from ${r}`,
};

export const VERDICT: Record<AlertKind, string> = {
  DOWN: 'DOWN (a quorum of validators could not reach it)',
  RECOVERED: 'UP (a quorum of validators reach it again)',
  REGION_DOWN: 'DOWN in one region, UP globally',
  REGION_RECOVERED: 'UP again in the region',
};

/** `<alertId@domain>`, the domain taken from MAIL_FROM (or "uptime.local"). */
export function alertMessageId(alertId: string, mailFrom: string): string {
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(mailFrom.trim())?.[1] ?? 'uptime.local';
  return `<alert-${alertId}@${domain}>`;
}

export function renderAlertEmail(
  alert: HealthAlertV1,
  to: AlertRecipient,
  options: { publicUrl: string; mailFrom: string },
): OutgoingMail {
  const name = to.siteName || to.siteUrl;
  const headline = HEADLINE[alert.kind](alert.region);
  const link = `${options.publicUrl.replace(/\/+$/, '')}/api/websites/${to.siteId}`;
  const { up, down, total } = alert.tally;
  const rows: [string, string][] = [
    ['Site', name],
    ['URL', to.siteUrl],
    ['Region', alert.region ?? 'all regions'],
    ['Verdict', VERDICT[alert.kind]],
    ['Time', new Date(alert.at).toISOString()],
    [
      'Votes',
      `${down} down, ${up} up of ${total}${alert.tally.quorum ? ` (quorum ${alert.tally.quorum})` : ''}`,
    ],
    ['Round', String(alert.round)],
    ['Details', link],
  ];
  const subject = `[${alert.kind}] ${oneLine(name)} ${headline}`;
  const text =
    `${name} ${headline}.\n\n` +
    rows.map(([k, v]) => `${`${k}:`.padEnd(9)} ${v}`).join('\n') +
    `\n\nAlert ${alert.alertId}\n`;
  const html =
    `<!doctype html><html><body style="font-family:sans-serif">` +
    `<h2>${esc(name)} ${esc(headline)}</h2><table cellpadding="4">` +
    rows
      .map(([k, v]) =>
        k === 'Details'
          ? `<tr><th align="left">${k}</th><td><a href="${esc(v)}">${esc(v)}</a></td></tr>`
          : `<tr><th align="left">${k}</th><td>${esc(v)}</td></tr>`,
      )
      .join('') +
    `</table><p style="color:#888">Alert ${esc(alert.alertId)}</p></body></html>`;
  return {
    to: to.ownerEmail,
    subject: subject.slice(0, 250),
    text,
    html,
    messageId: alertMessageId(alert.alertId, options.mailFrom),
    headers: { 'X-Uptime-Alert-Id': alert.alertId, 'X-Uptime-Alert-Kind': alert.kind },
  };
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Header injection guard: a site name cannot add header lines to the subject. */
function oneLine(s: string): string {
  return s.replace(/[\r\n\t]+/g, ' ').trim();
}
