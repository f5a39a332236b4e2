/**
 * What the dashboard costs in a real Chromium with many sites: one load (navigation start to
 * every site shown, long tasks, the scripts fetched), a search and a scroll over the whole list.
 * Shared by the browser test (which asserts what the page does) and bench:dashboard (which
 * reports how fast it does it: timings belong in benchmarks, not in tests).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Browser, Page } from 'playwright-core';
import { WEB_DIST_DIR } from '@/modules/web-app/serve-web-app';
import { signedIn } from './browser';

export interface LoadFigures {
  firstRowsMs: number;
  readyMs: number;
  lastLongTaskEndMs: number;
  /** the later of "every site shown" and the end of the last long task */
  interactiveMs: number;
  longTasks: number;
  apiCalls: { path: string; ms: number }[];
  scripts: string[];
}

export interface SearchFigures {
  ms: number;
  rows: number;
  first: string | undefined;
}

export interface ScrollFigures {
  ms: number;
  frames: number;
  longTasks: number;
  maxLongTaskMs: number;
  lastRow: string | undefined;
  rowsInDom: number;
  /** main-thread CPU per frame: what the page costs, apart from waiting for a busy machine */
  cpuMsPerFrame: number;
}

/** Long tasks from the first byte on, kept on window by a script that runs before the app. */
const OBSERVE_LONG_TASKS = () => {
  const g = globalThis as any;
  g.__longTasks = [];
  new g.PerformanceObserver((list: any) => {
    for (const e of list.getEntries())
      g.__longTasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
};

/** Opens the dashboard signed in with `token` and waits until all `sites` are shown. */
export async function openDashboard(
  browser: Browser,
  base: string,
  token: string,
  sites: number,
): Promise<{ page: Page; figures: LoadFigures; close(): Promise<void> }> {
  const ctx = await signedIn(browser, token);
  await ctx.addInitScript(OBSERVE_LONG_TASKS);
  const page = await ctx.newPage();
  await page.goto(`${base}/`);
  await page.waitForSelector(`html[data-sites-ready="${sites}"]`, { timeout: 60_000 });
  // one more second: a long task right after "ready" would still delay a person's first input
  await page.waitForTimeout(1_000);
  const figures = await page.evaluate(() => {
    const g = globalThis as any;
    const p = g.performance;
    const ready = p.getEntriesByName('app:sites-ready')[0].startTime as number;
    const firstRows = p.getEntriesByName('app:first-rows')[0].startTime as number;
    const tasks = g.__longTasks as { start: number; duration: number }[];
    const lastEnd = tasks.reduce((m: number, t) => Math.max(m, t.start + t.duration), 0);
    const resources = p.getEntriesByType('resource') as any[];
    return {
      firstRowsMs: Math.round(firstRows),
      readyMs: Math.round(ready),
      lastLongTaskEndMs: Math.round(lastEnd),
      interactiveMs: Math.round(Math.max(ready, lastEnd)),
      longTasks: tasks.length,
      apiCalls: resources
        .filter((r) => r.name.includes('/api/dashboard/sites'))
        .map((r) => ({ path: new URL(r.name).search, ms: Math.round(r.duration) })),
      scripts: resources
        .filter((r) => new URL(r.name).pathname.endsWith('.js'))
        .map((r) => new URL(r.name).pathname),
    };
  });
  return { page, figures, close: () => ctx.close() };
}

/** Types `query` into the site search and waits one frame. */
export function searchSites(page: Page, query: string): Promise<SearchFigures> {
  return page.evaluate(async (q: string) => {
    const g = globalThis as any;
    const input = g.document.querySelector('#site-search');
    const t0 = g.performance.now();
    input.value = q;
    input.dispatchEvent(new g.Event('input', { bubbles: true }));
    await new Promise((r) => g.requestAnimationFrame(() => g.setTimeout(r, 0)));
    return {
      ms: g.performance.now() - t0,
      rows: g.document.querySelectorAll('.vlist .row').length,
      first: g.document.querySelector('.vlist .row a')?.textContent,
    };
  }, query);
}

/** Scrolls the list top to bottom at 1,200 px a frame, then a few long jumps, and back down. */
export async function scrollWholeList(page: Page): Promise<ScrollFigures> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const threadTime = async () =>
    (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'ThreadTime')
      ?.value ?? 0;
  const before = await threadTime();
  const scroll = await page.evaluate(async () => {
    const g = globalThis as any;
    g.__longTasks.length = 0;
    const el = g.document.querySelector('.vlist');
    const frame = () => new Promise((r) => g.requestAnimationFrame(() => r(undefined)));
    const t0 = g.performance.now();
    let frames = 0;
    while (el.scrollTop + el.clientHeight < el.scrollHeight - 1) {
      el.scrollTop += 1200;
      await frame();
      frames++;
    }
    for (const to of [0, el.scrollHeight / 2, el.scrollHeight, el.scrollHeight / 4]) {
      el.scrollTop = to;
      await frame();
      await frame();
      frames += 2;
    }
    el.scrollTop = el.scrollHeight;
    await frame();
    await frame();
    await new Promise((r) => g.setTimeout(r, 300));
    const tasks = g.__longTasks as { duration: number }[];
    return {
      ms: g.performance.now() - t0,
      frames,
      longTasks: tasks.length,
      maxLongTaskMs: tasks.reduce((m: number, t) => Math.max(m, t.duration), 0),
      lastRow: [...g.document.querySelectorAll('.vlist .row a')]
        .map((a: any) => a.textContent)
        .at(-1),
      rowsInDom: g.document.querySelectorAll('.vlist .row').length,
    };
  });
  const after = await threadTime();
  return { ...scroll, cpuMsPerFrame: ((after - before) * 1000) / scroll.frames };
}

/** The first load's scripts from web/dist, gzipped at level 9 (what a CDN would send). */
export function gzippedScripts(scripts: readonly string[]): { lines: string[]; total: number } {
  let total = 0;
  const lines = [...new Set(scripts)].map((path) => {
    const bytes = readFileSync(join(WEB_DIST_DIR, path));
    const gz = gzipSync(bytes, { level: 9 }).length;
    total += gz;
    return `${path}: ${bytes.length} B, ${gz} B gzipped`;
  });
  return { lines, total };
}
