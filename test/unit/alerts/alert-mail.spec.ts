// The alert e-mail: the content an owner needs, escaped HTML, a one-line subject, and a
// Message-ID that depends on the alert alone.
import { randomUUID } from 'node:crypto';
import { alertDedupKey, HealthAlertV1 } from '@/modules/alerts/alert-events';
import { alertMessageId, renderAlertEmail } from '@/modules/alerts/alert-mail.template';

const alert = (over: Partial<HealthAlertV1> = {}): HealthAlertV1 => {
  const base = {
    v: 1 as const,
    alertId: '6f1c1f0e-5a4b-4c1e-9d1a-2b3c4d5e6f70',
    siteId: randomUUID(),
    url: 'https://shop.example',
    kind: 'REGION_DOWN' as const,
    region: 'ap-south-1' as string | null,
    round: 77,
    decisionLogIndex: 770,
    tally: { up: 4, down: 1, total: 5, quorum: 3 },
    at: '2026-11-28T08:30:00.000Z',
    ...over,
  };
  return { ...base, dedupKey: alertDedupKey(base) };
};
const to = {
  siteId: 'site-1',
  siteName: 'Shop <b>"big"</b>\r\nBcc: evil@example.com',
  siteUrl: 'https://shop.example/?a=1&b=2',
  ownerId: 'u1',
  ownerEmail: 'owner@example.com',
};
const opts = { publicUrl: 'https://uptime.example/', mailFrom: 'Uptime <alerts@mail.example>' };

describe('alert e-mail', () => {
  it('derives the Message-ID from the alert id and the sender domain', () => {
    expect(alertMessageId('abc', 'Uptime <alerts@mail.example>')).toBe('<alert-abc@mail.example>');
    expect(alertMessageId('abc', 'alerts@plain.example')).toBe('<alert-abc@plain.example>');
    expect(alertMessageId('abc', 'no address')).toBe('<alert-abc@uptime.local>');
    const a = alert();
    expect(renderAlertEmail(a, to, opts).messageId).toBe(renderAlertEmail(a, to, opts).messageId);
  });

  it('says what, where, when, how sure, and links to the site', () => {
    const mail = renderAlertEmail(alert(), to, opts);
    expect(mail.to).toBe('owner@example.com');
    expect(mail.text).toContain('is unreachable from ap-south-1');
    expect(mail.text).toContain('https://shop.example/?a=1&b=2');
    expect(mail.text).toContain('2026-11-28T08:30:00.000Z');
    expect(mail.text).toContain('1 down, 4 up of 5 (quorum 3)');
    expect(mail.text).toContain('https://uptime.example/api/websites/site-1');
    expect(mail.headers).toEqual({
      'X-Uptime-Alert-Id': alert().alertId,
      'X-Uptime-Alert-Kind': 'REGION_DOWN',
    });
  });

  it('keeps the subject on one line and the HTML free of injected markup', () => {
    const mail = renderAlertEmail(alert(), to, opts);
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.subject.startsWith('[REGION_DOWN] Shop <b>"big"</b> Bcc: evil@example.com')).toBe(
      true,
    );
    expect(mail.html).not.toContain('<b>');
    expect(mail.html).toContain('Shop &#60;b&#62;&#34;big&#34;');
    expect(mail.html).toContain('a=1&#38;b=2');
  });

  it.each([
    ['DOWN', null, 'is DOWN'],
    ['RECOVERED', null, 'is back UP'],
    ['REGION_RECOVERED', 'eu', 'is reachable again from eu'],
  ] as const)('words a %s alert', (kind, region, words) => {
    const mail = renderAlertEmail(alert({ kind, region }), { ...to, siteName: 'S' }, opts);
    expect(mail.subject).toBe(`[${kind}] S ${words}`);
  });
});
