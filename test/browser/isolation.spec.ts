// Issue 13, acceptance 4, in the browser: another user's sites never appear in the dashboard,
// on a site page reached by URL, in the site picker of a status page, on a public status page
// or as a badge. (The API side of the same rule: test/e2e/dashboard-api.spec.ts and
// test/e2e/status-pages-api.spec.ts.)
import { Browser, Page } from 'playwright-core';
import { signupAndLogin } from '../support/app';
import { launchChromium, RunningApp, screenshot, signedIn, startApp } from './support/browser';
import { seedSites, userIdOf } from './support/seed';

jest.setTimeout(180_000);

describe('cross-user isolation in the browser', () => {
  let app: RunningApp;
  let browser: Browser;
  let aliceToken: string;
  let bobToken: string;
  let alice: string[];
  let bob: string[];

  const auth = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    app = await startApp();
    aliceToken = await signupAndLogin(app.t, 'alice@iso.test');
    bobToken = await signupAndLogin(app.t, 'bob@iso.test');
    alice = await seedSites(app.t.db.url, {
      ownerId: await userIdOf(app.t.db.url, 'alice@iso.test'),
      count: 30,
      prefix: 'Alpha Secret',
      url: 'http://127.0.0.1:9/alpha-private/',
      downEvery: 4,
    });
    bob = await seedSites(app.t.db.url, {
      ownerId: await userIdOf(app.t.db.url, 'bob@iso.test'),
      count: 4,
      prefix: 'Bravo',
      url: 'http://127.0.0.1:9/bravo/',
    });
    await app.t.http
      .post('/api/status-pages')
      .set(auth(aliceToken))
      .send({ slug: 'alpha', title: 'Alpha status', siteIds: [alice[0], alice[3]] })
      .expect(201);
    await app.t.http
      .post('/api/status-pages')
      .set(auth(bobToken))
      .send({ slug: 'bravo', title: 'Bravo status', siteIds: [bob[1]] })
      .expect(201);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.t.close();
  });

  async function dashboardOf(token: string, count: number): Promise<Page> {
    const ctx = await signedIn(browser, token);
    const page = await ctx.newPage();
    await page.goto(`${app.base}/`);
    await page.waitForSelector(`html[data-sites-ready="${count}"]`, { timeout: 30_000 });
    return page;
  }

  it("lists only my sites on my dashboard, and finds none of the other user's", async () => {
    const page = await dashboardOf(bobToken, 4);
    const ids = await page.$$eval('.vlist .row', (rows) =>
      rows.map((r) => r.getAttribute('data-site-id')),
    );
    expect(ids.sort()).toEqual([...bob].sort());
    const text = await page.locator('body').innerText();
    expect(text).not.toContain('Alpha');
    expect(text).not.toContain('alpha-private');
    expect(text).toContain('4 sites');
    await page.fill('#site-search', 'Alpha');
    await page.waitForFunction(
      () => (globalThis as any).document.querySelectorAll('.vlist .row').length === 0,
    );
    console.log(`screenshot: ${await screenshot(page, 'isolation-bob-dashboard')}`);

    const own = await dashboardOf(aliceToken, 30);
    expect(await own.locator('body').innerText()).not.toContain('Bravo');
    await page.context().close();
    await own.context().close();
  });

  it("shows 'no such site' for another user's site page opened by its URL", async () => {
    const ctx = await signedIn(browser, bobToken);
    const page = await ctx.newPage();
    await page.goto(`${app.base}/sites/${alice[0]}`);
    await page.getByText('No such site.').waitFor();
    const html = await page.content();
    expect(html).not.toContain('Alpha');
    expect(html).not.toContain('alpha-private');
    await ctx.close();
  });

  it("offers none of the other user's sites when building a status page", async () => {
    const ctx = await signedIn(browser, bobToken);
    const page = await ctx.newPage();
    await page.goto(`${app.base}/pages`);
    await page.getByRole('button', { name: 'New status page' }).click();
    await page.getByLabel('Find a site to add').fill('');
    await page.locator('.candidates li').first().waitFor();
    const offered = await page.locator('.candidates li').allInnerTexts();
    expect(offered).toHaveLength(4);
    expect(offered.join(' ')).not.toContain('Alpha');
    await page.getByLabel('Find a site to add').fill('Alpha');
    await page.waitForFunction(
      () => (globalThis as any).document.querySelectorAll('.candidates li').length === 0,
    );
    await ctx.close();
  });

  it('shows on a public page only the sites its owner listed, without URLs or owner', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${app.base}/status/alpha`);
    await page.getByRole('heading', { name: 'Alpha status' }).waitFor();
    await page.locator('.public-site').first().waitFor();
    const shown = await page.$$eval('.public-site', (s) =>
      s.map((x) => x.getAttribute('data-site-id')),
    );
    expect(shown).toEqual([alice[0], alice[3]]);
    const html = await page.content();
    expect(html).not.toContain('alpha-private');
    expect(html).not.toContain('alice@iso.test');
    expect(html).not.toContain('Bravo');
    for (const id of bob) expect(html).not.toContain(id);
    console.log(`screenshot: ${await screenshot(page, 'isolation-public-alpha')}`);

    await page.goto(`${app.base}/status/bravo`);
    await page.getByRole('heading', { name: 'Bravo status' }).waitFor();
    await page.locator('.public-site').first().waitFor();
    const bravo = await page.content();
    expect(bravo).not.toContain('Alpha');
    expect(await page.$$eval('.public-site', (s) => s.length)).toBe(1);
    await ctx.close();
  });

  it('serves badges for listed sites only, whoever asks', async () => {
    const ctx = await browser.newContext();
    const get = (id: string) => ctx.request.get(`${app.base}/api/badge/${id}/status.svg`);
    expect((await get(alice[0])).status()).toBe(200);
    expect((await get(bob[1])).status()).toBe(200);
    for (const id of [alice[1], alice[29], bob[0], bob[3]])
      expect((await get(id)).status()).toBe(404);
    const withToken = await ctx.request.get(`${app.base}/api/badge/${alice[1]}/uptime.svg`, {
      headers: auth(bobToken),
    });
    expect(withToken.status()).toBe(404);
    await ctx.close();
  });
});
