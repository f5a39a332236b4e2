/**
 * bench:dashboard — how fast the dashboard is with 5,000 sites in a real Chromium (issue 13,
 * acceptance 2: interactive under 1.5 s, no long task over 100 ms while scrolling, at most
 * 250 kB of gzipped JavaScript first). The same page and the same measurements as
 * test/browser/dashboard-scale.spec.ts, which asserts only what the page does.
 *
 *   npm run build && npm run bench:dashboard [-- --sites 5000 --loads 5 --out bench/RESULTS.md]
 *
 * Needs PostgreSQL on 127.0.0.1:5432 and Chromium (CHROMIUM_PATH, default /usr/bin/chromium).
 */
import 'reflect-metadata';
import { loadavg } from 'node:os';
import { signupAndLogin } from '../test/support/app';
import { launchChromium, startApp } from '../test/browser/support/browser';
import {
  gzippedScripts,
  openDashboard,
  scrollWholeList,
  searchSites,
} from '../test/browser/support/dashboard-figures';
import { seedSites, userIdOf } from '../test/browser/support/seed';
import { machineFacts, percentile, recordResults } from './support/results';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const sites = Number(arg('sites', '5000'));
  const loads = Number(arg('loads', '5'));
  const out = arg('out', 'bench/RESULTS.md');
  const load0 = loadavg();
  const app = await startApp();
  const browser = await launchChromium();
  try {
    const email = 'bench@dashboard.test';
    const token = await signupAndLogin(app.t, email);
    await seedSites(app.t.db.url, {
      ownerId: await userIdOf(app.t.db.url, email),
      count: sites,
      prefix: 'Scale',
      downEvery: 37,
      regionDownEvery: 23,
      daily: false,
    });
    const interactive: number[] = [];
    const ready: number[] = [];
    let scripts: string[] = [];
    for (let i = 0; i < loads; i++) {
      const { figures, close } = await openDashboard(browser, app.base, token, sites);
      interactive.push(figures.interactiveMs);
      ready.push(figures.readyMs);
      scripts = figures.scripts;
      process.stderr.write(`load ${i + 1}: ${JSON.stringify(figures)}\n`);
      await close();
    }
    const { page, close } = await openDashboard(browser, app.base, token, sites);
    const search = await searchSites(page, 'Scale 4321');
    await page.fill('#site-search', '');
    await page.waitForFunction(
      () => (globalThis as any).document.querySelectorAll('.vlist .row').length > 5,
    );
    const scroll = await scrollWholeList(page);
    await close();
    const js = gzippedScripts(scripts);
    interactive.sort((a, b) => a - b);
    ready.sort((a, b) => a - b);
    const med = (xs: number[]) => percentile(xs, 50);
    recordResults(
      out,
      [
        `## bench:dashboard — ${new Date().toISOString()}`,
        '',
        `${machineFacts()} Load average ${load0.map((x) => x.toFixed(1)).join(' / ')} (1/5/15 min) at start.` +
          ` One node (the app as the browser tests start it) on the local PostgreSQL, ${sites} seeded sites (status, last check, 24 hourly rollups), Chromium headless, ${loads} cold loads.`,
        '',
        '| measure | value | budget |',
        '|---|---:|---:|',
        `| interactive (all sites shown, no long task pending): median / max | ${med(interactive)} / ${interactive.at(-1)} ms | < 1500 ms |`,
        `| all sites shown: median | ${med(ready)} ms | |`,
        `| search over all sites rendered | ${search.ms.toFixed(1)} ms (${search.rows} row) | |`,
        `| scroll of the whole list: longest long task | ${Math.round(scroll.maxLongTaskMs)} ms (${scroll.longTasks} long tasks, ${scroll.frames} frames) | ≤ 100 ms |`,
        `| scroll: main-thread CPU per frame | ${scroll.cpuMsPerFrame.toFixed(1)} ms | |`,
        `| first-load JavaScript, gzipped | ${(js.total / 1000).toFixed(1)} kB | ≤ 250 kB |`,
        '',
      ].join('\n'),
    );
  } finally {
    await browser.close();
    await app.t.close();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
