// Issues 13–15 through the dashboard, in Chromium against the real app: a push monitor is
// created in the site form and its beat URL read from the one-time display; a beat sent to it
// turns it UP; rotating the token on the site page makes the old URL 404. A TCP site on a
// local port turns UP. A webhook channel is created (its secret never shown again) and tested
// against a local receiver; a maintenance window is planned; a read API key is shown once,
// works for GET (200), is refused for POST (403) and, once revoked, at all (401). axe-core
// finds no serious or critical violation on the new pages; screenshots go to test-artifacts/.
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo, createServer as createTcpServer, Server as TcpServer } from 'node:net';
import { Browser, Page } from 'playwright-core';
import { makeTestCerts } from '../integration/ping/support/certs';
import { startTarget, Target } from '../integration/ping/support/targets';
import { signupAndLogin } from '../support/app';
import {
  a11yViolations,
  AxeViolation,
  launchChromium,
  RunningApp,
  screenshot,
  seriousOrCritical,
  signedIn,
  startApp,
} from './support/browser';

jest.setTimeout(120_000);

const SIGNING_SECRET = 'whsec-never-shown-0123456789';

describe('settings in Chromium: check kinds, push tokens, channels, maintenance, API keys', () => {
  let app: RunningApp;
  let browser: Browser;
  let page: Page;
  let jwt = '';
  let tcp: TcpServer;
  let tcpPort = 0;
  let hook: Server;
  let hookPort = 0;
  const hookRequests: { headers: IncomingMessage['headers']; body: string }[] = [];
  const axe: Record<string, AxeViolation[]> = {};
  let beatUrl = '';
  /** a TLS server whose certificate ends in 10 days (a CA of the test's own) */
  let tlsTarget: Target;

  beforeAll(async () => {
    tcp = createTcpServer((s) => s.end());
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    tcpPort = (tcp.address() as AddressInfo).port;
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        hookRequests.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    hookPort = (hook.address() as AddressInfo).port;
    tlsTarget = await startTarget(makeTestCerts().in10Days);
    app = await startApp();
    jwt = await signupAndLogin(app.t, 'settings@flow.test');
    browser = await launchChromium();
    const ctx = await signedIn(browser, jwt);
    await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.base });
    page = await ctx.newPage();
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    await page.goto(app.base);
    await page.getByRole('heading', { name: 'Sites' }).waitFor();
  });
  afterAll(async () => {
    for (const [name, v] of Object.entries(axe))
      console.log(
        `axe ${name}: ${v.length} violation(s)${v.map((x) => `\n  ${x.impact} ${x.id}: ${x.help} [${x.nodes.join(', ')}]`).join('')}`,
      );
    await browser?.close();
    await app?.t.close();
    tcp?.close();
    await tlsTarget?.close();
    hook?.closeAllConnections();
    hook?.close();
  });

  const nav = (name: string) =>
    page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
  const row = (name: string) => page.locator('.row', { hasText: name });
  const checkA11y = async (name: string) => {
    axe[name] = await a11yViolations(page);
    expect(seriousOrCritical(axe[name])).toEqual([]);
  };
  const withKey = (key: string, method = 'GET') =>
    fetch(`${app.base}/api/websites`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: method === 'GET' ? undefined : JSON.stringify({ url: 'https://example.com' }),
    });

  it('creates a push monitor and shows its beat URL once; a beat turns it UP', async () => {
    await page.getByRole('button', { name: 'Add site' }).click();
    await page.getByLabel('Push (heartbeat)').check();
    // push sites have no URL, interval or timeout
    expect(await page.getByLabel('URL', { exact: true }).count()).toBe(0);
    await page.getByLabel('Name').fill('Nightly job');
    await page.getByLabel('Expected beat every (seconds)').fill('1');
    await page.getByRole('button', { name: 'Add site' }).last().click();
    // the API's message for check.periodS, under its field
    const err = page.locator('#new-site-periodS-error');
    await err.waitFor();
    expect(await err.innerText()).toMatch(/2/);
    await page.getByLabel('Expected beat every (seconds)').fill('20');
    await page.getByLabel('Grace (seconds)').fill('10');
    await page.getByRole('button', { name: 'Add site' }).last().click();

    const shown = page.getByTestId('one-time-secret');
    await shown.waitFor();
    expect(await shown.innerText()).toMatch(/will not be shown again/);
    beatUrl = (await shown.getByTestId('secret-value').innerText()).trim();
    expect(beatUrl).toMatch(new RegExp(`^${app.base}/api/push/[A-Za-z0-9_-]{20,}$`));
    expect(await shown.getByTestId('secret-example').innerText()).toContain(`curl`);
    await shown.getByRole('button', { name: 'Copy beat url' }).click();
    expect(
      await page.evaluate(
        () => (globalThis as any).navigator.clipboard.readText() as Promise<string>,
      ),
    ).toBe(beatUrl);
    console.log(`screenshot: ${await screenshot(page, 'push-token-once')}`);
    await checkA11y('push token display');
    await page.getByRole('button', { name: 'I have copied it' }).click();
    expect(await page.getByTestId('one-time-secret').count()).toBe(0);

    await row('Nightly job').waitFor();
    const res = await fetch(beatUrl, { method: 'POST' });
    expect(res.status).toBe(200);
    await page.locator('.row[data-state="up"]', { hasText: 'Nightly job' }).waitFor({
      timeout: 20_000,
    });
  });

  it('rotates the token on the site page: the old beat URL is 404, the new one 200', async () => {
    await row('Nightly job').getByRole('link', { name: 'Nightly job' }).click();
    await page.getByRole('heading', { name: 'Nightly job' }).waitFor();
    const lastBeat = page.getByTestId('last-beat');
    await lastBeat.waitFor();
    expect(await lastBeat.innerText()).not.toMatch(/never/);
    await page.getByRole('button', { name: 'Rotate token' }).click();
    await page.getByRole('button', { name: 'Rotate now' }).click();
    const shown = page.getByTestId('one-time-secret');
    await shown.waitFor();
    const next = (await shown.getByTestId('secret-value').innerText()).trim();
    expect(next).not.toBe(beatUrl);
    console.log(`screenshot: ${await screenshot(page, 'push-site-rotated')}`);
    await checkA11y('push site page');
    expect((await fetch(beatUrl)).status).toBe(404);
    expect((await fetch(next)).status).toBe(200);
    await page.getByRole('button', { name: 'I have copied it' }).click();
    // editing keeps the kind: only its options change
    await page.getByRole('button', { name: 'Edit' }).click();
    expect(await page.getByLabel('TCP port').isDisabled()).toBe(true);
    await page.getByLabel('Grace (seconds)').fill('15');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText(/grace 15 s/).waitFor();
  });

  it('adds a TCP site on a local port, with the API’s target message in place first', async () => {
    await nav('Sites').click();
    await page.getByRole('button', { name: 'Add site' }).click();
    await page.getByLabel('TCP port').check();
    await page.getByLabel('Host and port').fill('127.0.0.1');
    await page.getByRole('button', { name: 'Add site' }).last().click();
    const err = page.locator('#new-site-target-error');
    await err.waitFor();
    expect(await err.innerText()).toMatch(/host:port/);
    await page.getByLabel('Host and port').fill(`127.0.0.1:${tcpPort}`);
    await page.getByLabel('Name').fill('Local TCP');
    await page.getByLabel('Check every (seconds)').fill('10');
    await page.getByLabel('Timeout (ms)').fill('2000');
    await page.getByRole('button', { name: 'Add site' }).last().click();
    await row('Local TCP').waitFor();
    const site = (await (
      await fetch(`${app.base}/api/websites?limit=100`, {
        headers: { authorization: `Bearer ${jwt}` },
      })
    ).json()) as { items: { name: string; url: string; check: { kind: string } }[] };
    const made = site.items.find((s) => s.name === 'Local TCP');
    expect(made).toMatchObject({ url: `tcp://127.0.0.1:${tcpPort}`, check: { kind: 'tcp' } });
    // its UP is awaited in the last test, while the others run
  });

  it('HTTP assertions and DNS options: the API’s messages land under their fields', async () => {
    await page.getByRole('button', { name: 'Add site' }).click();
    await page.getByLabel('URL', { exact: true }).fill('http://127.0.0.1:9/health');
    await page.getByLabel('Name', { exact: true }).fill('Asserted');
    await page.getByLabel('Method').selectOption('HEAD');
    await page.getByLabel('Accepted HTTP status codes').fill('204, 300-200');
    await page.getByLabel('Slowest accepted response (ms)').fill('0');
    await page.getByLabel('Paused').check();
    await page.getByRole('button', { name: 'Add site' }).last().click();
    await page.locator('#new-site-expectedStatus-error').waitFor();
    await page.locator('#new-site-maxLatencyMs-error').waitFor();
    await page.getByLabel('Accepted HTTP status codes').fill('204, 300-399');
    await page.getByLabel('Slowest accepted response (ms)').fill('1500');
    await page.getByRole('button', { name: 'Add site' }).last().click();
    await row('Asserted').waitFor();
    const list = (await (
      await fetch(`${app.base}/api/websites?limit=100`, {
        headers: { authorization: `Bearer ${jwt}` },
      })
    ).json()) as { items: { name: string; expectedStatus: number[]; check: unknown }[] };
    expect(list.items.find((s) => s.name === 'Asserted')).toMatchObject({
      expectedStatus: [204],
      check: {
        kind: 'http',
        method: 'HEAD',
        assertions: { status: [{ min: 300, max: 399 }], maxLatencyMs: 1500 },
      },
    });

    await page.getByRole('button', { name: 'Add site' }).click();
    await page.getByLabel('DNS record').check();
    await page.getByLabel('Record name').fill('example.test');
    await page.getByLabel('Record type').selectOption('MX');
    await page.getByLabel('Resolver').fill('not-an-ip');
    await page.getByRole('button', { name: 'Add site' }).last().click();
    const err = page.locator('#new-site-resolver-error');
    await err.waitFor();
    expect(await err.innerText()).toMatch(/IP address/);
    await page.getByRole('button', { name: 'Cancel' }).click();
  });

  it('adds a TLS certificate site (chain check off: the test CA is not trusted)', async () => {
    await page.getByRole('button', { name: 'Add site' }).click();
    await page.getByLabel('TLS certificate').check();
    await page.getByLabel('Host', { exact: true }).fill(`127.0.0.1:${tlsTarget.port}`);
    await page.getByLabel('Name', { exact: true }).fill('Local cert');
    await page.getByLabel('Warn when fewer days left').fill('20');
    await page.getByLabel('DOWN when fewer days left').fill('3');
    await page.getByLabel('An untrusted certificate chain is DOWN').uncheck();
    await page.getByLabel('Check every (seconds)').fill('10');
    await page.getByLabel('Timeout (ms)').fill('2000');
    console.log(`screenshot: ${await screenshot(page, 'site-form-tls')}`);
    await checkA11y('site form (tls)');
    await page.getByRole('button', { name: 'Add site' }).last().click();
    await row('Local cert').waitFor();
    // its certificate line is awaited in the last test
  });

  it('creates a webhook channel whose secret is never shown, and tests it', async () => {
    await nav('Notifications').click();
    await page.getByRole('heading', { name: 'Notifications', level: 1 }).waitFor();
    await page.getByText('No channels yet').waitFor();
    await page.getByRole('button', { name: 'Add channel' }).click();
    await page.getByLabel('Type').selectOption('WEBHOOK');
    await page.getByLabel('Channel name').fill('Ops hook');
    await page.getByLabel('Webhook URL').fill(`http://127.0.0.1:${hookPort}/hook`);
    await page.getByLabel('Signing secret').fill('short');
    await page.getByRole('button', { name: 'Save channel' }).click();
    await page.locator('#ch-signingSecret-error').waitFor();
    expect(await page.locator('#ch-signingSecret-error').innerText()).toMatch(/16/);
    await page.getByLabel('Signing secret').fill(SIGNING_SECRET);
    await page.getByRole('button', { name: 'Save channel' }).click();
    const channel = page.locator('tr', { hasText: 'Ops hook' });
    await channel.waitFor();
    expect(await channel.innerText()).toMatch(/set, hidden/);
    expect(await page.content()).not.toContain(SIGNING_SECRET);
    await page.getByRole('button', { name: 'Send test to Ops hook' }).click();
    await page.getByText(/Test sent to Ops hook: accepted/).waitFor({ timeout: 15_000 });
    expect(hookRequests.length).toBeGreaterThan(0);
    expect(hookRequests[0].headers['x-uptime-signature']).toBeDefined();
    expect(await page.content()).not.toContain(SIGNING_SECRET);
    await page.getByRole('button', { name: 'Disable Ops hook' }).click();
    await page.getByRole('button', { name: 'Enable Ops hook' }).waitFor();
  });

  it('plans a one-off maintenance window for a site', async () => {
    await page.getByRole('button', { name: 'Plan maintenance' }).click();
    await page.getByLabel('Title').fill('DB upgrade');
    await page.getByLabel('Site').selectOption({ label: 'Local TCP' });
    await page.getByRole('button', { name: 'Save window' }).click();
    const win = page.locator('tr', { hasText: 'DB upgrade' });
    await win.waitFor();
    expect(await win.innerText()).toMatch(/Local TCP/);
    expect(await win.innerText()).toMatch(/next/);
    // recurring, with a bad cron: the API's message under the field
    await page.getByRole('button', { name: 'Plan maintenance' }).click();
    await page.getByLabel('Recurring').check();
    await page.getByLabel('Title').fill('Weekly');
    await page.getByLabel('Starts on (cron)').fill('not a cron');
    await page.getByRole('button', { name: 'Save window' }).click();
    await page.locator('#mw-cron-error').waitFor();
    await page.getByLabel('Starts on (cron)').fill('0 3 * * 0');
    await page.getByRole('button', { name: 'Save window' }).click();
    await page.locator('tr', { hasText: 'Weekly' }).waitFor();
    await page.waitForTimeout(200);
    console.log(`screenshot: ${await screenshot(page, 'notifications-page')}`);
    await checkA11y('notifications page');
  });

  it('creates a read API key shown once: GET 200, POST 403, revoked 401', async () => {
    await nav('API keys').click();
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    await page.getByLabel('Key name').fill('ci-read');
    await page.getByLabel('Scope').selectOption('read');
    await page.getByLabel('Expires in').selectOption('30');
    await page.getByRole('button', { name: 'Create key' }).click();
    const shown = page.getByTestId('one-time-secret');
    await shown.waitFor();
    const key = (await shown.getByTestId('secret-value').innerText()).trim();
    expect(key).toMatch(/^uk_/);
    await page.locator('tr', { hasText: 'ci-read' }).waitFor();
    console.log(`screenshot: ${await screenshot(page, 'api-keys-page')}`);
    await checkA11y('api keys page');

    expect((await withKey(key)).status).toBe(200);
    expect((await withKey(key, 'POST')).status).toBe(403);
    // once: a reload shows the key in the list by its hint only
    await page.reload();
    await page.locator('tr', { hasText: 'ci-read' }).waitFor();
    expect(await page.getByTestId('one-time-secret').count()).toBe(0);
    expect(await page.content()).not.toContain(key);

    await page.getByRole('button', { name: 'Revoke ci-read' }).click();
    await page.getByRole('button', { name: 'Revoke ci-read' }).last().click();
    await page.getByText('Revoked ci-read').waitFor();
    expect((await withKey(key)).status).toBe(401);
  });

  it('shows the TCP site UP, and the TLS site’s certificate days left as a warning', async () => {
    await nav('Sites').click();
    await page.locator('.row[data-state="up"]', { hasText: 'Local TCP' }).waitFor({
      timeout: 30_000,
    });
    await page.locator('.row[data-state="up"]', { hasText: 'Local cert' }).waitFor({
      timeout: 30_000,
    });
    console.log(`screenshot: ${await screenshot(page, 'dashboard-kinds')}`);
    await row('Local cert').getByRole('link', { name: 'Local cert' }).click();
    const cert = page.getByTestId('certificate');
    await cert.waitFor({ timeout: 25_000 });
    expect(await cert.innerText()).toMatch(/9 days left/);
    expect(await cert.getAttribute('class')).toContain('cert-warn');
    console.log(`screenshot: ${await screenshot(page, 'tls-site-page')}`);
    await checkA11y('tls site page');
  });
});
