/**
 * Browser tests drive Debian's Chromium (/usr/bin/chromium, installed by .ci/run) through
 * playwright-core against the real app, which serves the built dashboard (web/dist). A
 * missing browser or a missing build fails the test with the command that fixes it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';
import { WEB_DIST_DIR } from '@/modules/web-app/serve-web-app';
import { createTestApp, TestApp } from '../../support/app';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS_DIR = resolve(__dirname, '../../../test-artifacts');

/** The flags CI runs Chromium with; playwright adds --headless and a fresh --user-data-dir. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(
      `browser tests need Chromium at ${CHROMIUM_PATH}: apt-get update && apt-get install -y chromium ` +
        '(.ci/run installs it), or point CHROMIUM_PATH at one',
    );
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
}

const WEB_SRC_DIR = resolve(WEB_DIST_DIR, '..', 'src');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** The build exists and is not older than the sources: a stale bundle would test old code. */
export function assertWebBuilt(): void {
  const index = join(WEB_DIST_DIR, 'index.html');
  if (!existsSync(index))
    throw new Error(`no dashboard build in ${WEB_DIST_DIR}: run \`npm run build:web\` first`);
  if (newestMtime(WEB_SRC_DIR) > statSync(index).mtimeMs)
    throw new Error(`${WEB_DIST_DIR} is older than web/src: run \`npm run build:web\``);
}

export interface RunningApp {
  t: TestApp;
  base: string;
}

/** The real app (createTestApp) listening on 127.0.0.1, serving web/dist at `/`. */
export async function startApp(env: Record<string, string> = {}): Promise<RunningApp> {
  assertWebBuilt();
  const t = await createTestApp(env);
  await t.app.listen(0, '127.0.0.1');
  const { port } = t.app.getHttpServer().address() as AddressInfo;
  return { t, base: `http://127.0.0.1:${port}` };
}

/** A context whose pages start signed in with `token`. */
export async function signedIn(browser: Browser, token: string): Promise<BrowserContext> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await ctx.addInitScript(
    (t: string) => (globalThis as any).localStorage.setItem('uptime.token', t),
    token,
  );
  return ctx;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's WCAG 2.1 A/AA and best-practice rules on the page as it is now, worst first. */
export async function a11yViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const found = await page.evaluate(async () => {
    const axe = (globalThis as any).axe;
    const r = await axe.run((globalThis as any).document, {
      runOnly: {
        type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'],
      },
    });
    return (r.violations as any[]).map((v) => ({
      id: v.id as string,
      impact: v.impact as string | null,
      help: v.help as string,
      nodes: (v.nodes as any[]).slice(0, 5).map((n) => (n.target as string[]).join(' ')),
    }));
  });
  const rank = (i: string | null) => ['critical', 'serious', 'moderate', 'minor'].indexOf(i ?? '');
  return found.sort((a, b) => rank(a.impact) - rank(b.impact));
}

export function seriousOrCritical(v: readonly AxeViolation[]): AxeViolation[] {
  return v.filter((x) => x.impact === 'serious' || x.impact === 'critical');
}

/** An HTTP target on 127.0.0.1 that answers 200 until stopped. */
export class LocalTarget {
  private server: Server | null = null;
  port = 0;
  hits = 0;

  async start(port = 0): Promise<string> {
    this.server = createServer((_req, res) => {
      this.hits++;
      res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
      res.end('ok');
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return `http://127.0.0.1:${this.port}/health`;
  }

  /** Closes the port: the next check is refused (CONNECT). */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}
