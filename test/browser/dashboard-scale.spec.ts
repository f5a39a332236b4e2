// Issue 13, acceptance 2, what the page does with 5,000 sites in the account: every site is
// loaded and shown, a search finds one among all of them, the list is virtualized (a few dozen
// rows in the DOM however long it is) and scrolls to the last site, and the first load fetches
// at most 250 kB of gzipped JavaScript. How fast (interactive time, long tasks, CPU per frame)
// is measured by `npm run bench:dashboard` on the same page, not asserted here: a loaded CI
// machine makes any timing budget a coin toss.
import { Browser } from 'playwright-core';
import { signupAndLogin } from '../support/app';
import { launchChromium, RunningApp, screenshot, startApp } from './support/browser';
import {
  gzippedScripts,
  LoadFigures,
  openDashboard,
  scrollWholeList,
  searchSites,
} from './support/dashboard-figures';
import { seedSites, userIdOf } from './support/seed';

jest.setTimeout(240_000);

const SITES = 5_000;
const JS_BUDGET_BYTES = 250_000;
const MAX_ROWS_IN_DOM = 60;

describe(`dashboard with ${SITES} sites`, () => {
  let app: RunningApp;
  let browser: Browser;
  let token: string;
  let first: LoadFigures;

  beforeAll(async () => {
    app = await startApp();
    token = await signupAndLogin(app.t, 'scale@browser.test');
    await seedSites(app.t.db.url, {
      ownerId: await userIdOf(app.t.db.url, 'scale@browser.test'),
      count: SITES,
      prefix: 'Scale',
      downEvery: 37,
      regionDownEvery: 23,
      daily: false, // the list reads hourly rollups only
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.t.close();
  });

  it('loads every site in a few pages of the list API', async () => {
    const { figures, close } = await openDashboard(browser, app.base, token, SITES);
    first = figures;
    // measured and printed here, judged against the 1.5 s budget by bench:dashboard
    console.log(
      `all ${SITES} shown at ${figures.readyMs} ms in ${figures.apiCalls.length} API pages; ` +
        `interactive at ${figures.interactiveMs} ms (${figures.longTasks} long tasks)`,
    );
    expect(figures.apiCalls.length).toBeGreaterThan(0);
    expect(figures.apiCalls.length).toBeLessThanOrEqual(10);
    await close();
  });

  it('finds one site among all with the search, and scrolls a virtualized list to the last', async () => {
    const { page, close } = await openDashboard(browser, app.base, token, SITES);
    expect(await searchSites(page, 'Scale 4321')).toMatchObject({ rows: 1, first: 'Scale 4321' });
    expect(await searchSites(page, 'no such site anywhere')).toMatchObject({ rows: 0 });
    await page.fill('#site-search', '');
    await page.waitForFunction(
      () => (globalThis as any).document.querySelectorAll('.vlist .row').length > 5,
    );
    const scroll = await scrollWholeList(page);
    console.log(
      `scrolled ${SITES} rows in ${scroll.frames} frames: longest long task ` +
        `${Math.round(scroll.maxLongTaskMs)} ms, main-thread CPU ${scroll.cpuMsPerFrame.toFixed(1)} ms a frame`,
    );
    expect(scroll.lastRow).toBe('Scale 5000');
    expect(scroll.rowsInDom).toBeLessThan(MAX_ROWS_IN_DOM);
    console.log(`screenshot: ${await screenshot(page, 'dashboard-5000')}`);
    await close();
  });

  it(`loads at most ${JS_BUDGET_BYTES / 1000} kB of gzipped JavaScript first`, () => {
    const { lines, total } = gzippedScripts(first.scripts);
    console.log(`first-load JavaScript:\n  ${lines.join('\n  ')}\n  total ${total} B gzipped`);
    expect(lines.length).toBeGreaterThan(0);
    expect(total).toBeLessThanOrEqual(JS_BUDGET_BYTES);
  });
});
