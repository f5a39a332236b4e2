// Every site of the signed-in user, loaded page by page (5,000 per request, names and
// committed status only) and kept current by live events; the rows in view are read again
// with their last check, uptime and sparkline (`withStats`). Updates that arrive together
// are applied in one animation frame, so a burst of verdicts for thousands of sites costs
// one render of the visible rows.
import { api } from './api';
import { createStore } from './store';
import type {
  ConsensusEvent,
  OverviewPage,
  PingResultEvent,
  SiteOverview,
  SiteState,
} from './types';

export interface SitesState {
  byId: Map<string, SiteOverview>;
  /** newest first, as the API pages them */
  order: string[];
  total: number | null;
  done: boolean;
  error: string | null;
  /** bumped on every change: the maps are mutated in place */
  version: number;
}

/** a small first page shows rows at once; the rest come in large pages (names and status only) */
const FIRST_PAGE = 200;
const PAGE = 5000;

export const sites = createStore<SitesState>(empty());

function empty(): SitesState {
  return { byId: new Map(), order: [], total: null, done: false, error: null, version: 0 };
}

function bump(patch: Partial<SitesState> = {}): void {
  const s = sites.get();
  sites.set({ ...s, ...patch, version: s.version + 1 });
}

/** sites whose last check, uptime and sparkline have been read */
const withStats = new Set<string>();

export function hasStats(id: string): boolean {
  return withStats.has(id);
}

let loading: Promise<void> | null = null;
let generation = 0;

/**
 * Loads every page; a second call while loading shares the first. The small first page and
 * the first large page are asked for together (both from the top): the small one shows rows
 * at once, the large one replaces it, so a long list costs one round trip more than a short
 * one instead of two.
 */
export function loadSites(reload = false): Promise<void> {
  if (loading && !reload) return loading;
  if (sites.get().done && !reload) return Promise.resolve();
  const gen = ++generation;
  const page = (limit: number, cursor: string | null) =>
    api<OverviewPage>(
      `/api/dashboard/sites?stats=false&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
  const run = async () => {
    // A first load fills the live map, so verdicts arriving meanwhile are kept; a reload
    // builds a fresh one and swaps it in at the end.
    const byId = reload ? new Map<string, SiteOverview>() : sites.get().byId;
    let order: string[] = [];
    let total: number | null = null;
    const take = (p: OverviewPage) => {
      total ??= p.total;
      for (const s of p.items) {
        byId.set(s.id, s);
        order.push(s.id);
      }
    };
    const big = page(PAGE, null);
    if (!reload) {
      const small = await page(FIRST_PAGE, null);
      if (gen !== generation) return;
      take(small);
      performance.mark('app:first-rows');
      bump({ byId, order: [...order], total, error: null });
    }
    let p = await big;
    if (gen !== generation) return;
    order = [];
    take(p);
    if (!reload) bump({ byId, order: [...order], total, error: null });
    while (p.nextCursor) {
      p = await page(PAGE, p.nextCursor);
      if (gen !== generation) return;
      take(p);
      if (!reload) bump({ byId, order: [...order], total, error: null });
    }
    if (reload) {
      withStats.clear();
      bump({ byId, order, total, error: null });
    }
    bump({ done: true });
  };
  loading = run()
    .catch((e: unknown) => {
      if (gen === generation) bump({ error: (e as Error).message });
    })
    .finally(() => {
      if (gen === generation) loading = null;
    });
  return loading;
}

export function resetSites(): void {
  generation++;
  withStats.clear();
  loading = null;
  sites.set(empty());
}

export function putSite(site: SiteOverview): void {
  const s = sites.get();
  if (!s.byId.has(site.id)) {
    s.order.unshift(site.id);
    if (s.total !== null) s.total++;
  }
  s.byId.set(site.id, site);
  withStats.add(site.id);
  bump();
}

/**
 * A row read again (last check, uptime, sparkline). Its committed state can be older than a
 * verdict that already arrived live (the projection lags the commit): the newer round wins.
 */
export function mergeSite(fresh: SiteOverview): void {
  const s = sites.get();
  const cur = s.byId.get(fresh.id);
  if (!cur) return;
  withStats.add(fresh.id);
  const a = cur.status;
  const b = fresh.status;
  let status = b;
  if (a && (!b || (a.lastRound ?? -1) > (b.lastRound ?? -1))) {
    const newerCheck = b?.lastCheckedAt && (!a.lastCheckedAt || b.lastCheckedAt > a.lastCheckedAt);
    status = newerCheck
      ? { ...a, lastCheckedAt: b.lastCheckedAt, lastLatencyMs: b.lastLatencyMs }
      : a;
  }
  s.byId.set(fresh.id, { ...fresh, status });
  bump();
}

export function dropSite(id: string): void {
  const s = sites.get();
  if (!s.byId.delete(id)) return;
  const i = s.order.indexOf(id);
  if (i >= 0) s.order.splice(i, 1);
  if (s.total !== null) s.total--;
  bump();
}

let queued: (() => void)[] = [];
let frame = 0;

function later(update: () => void): void {
  queued.push(update);
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    const run = queued;
    queued = [];
    for (const u of run) u();
    bump();
  });
}

/** A committed verdict: the site's state moves on, `since` only when the verdict changes. */
export function applyConsensus(e: ConsensusEvent): void {
  later(() => {
    const byId = sites.get().byId;
    const site = byId.get(e.siteId);
    if (!site) return;
    if (site.status?.lastRound != null && e.round < site.status.lastRound) return;
    byId.set(site.id, { ...site, status: nextState(site.status, e) });
  });
}

export function nextState(prev: SiteState | null, e: ConsensusEvent): SiteState {
  const at = new Date(e.timeStamp).toISOString();
  const regions: SiteState['regions'] = {};
  for (const [region, verdict] of Object.entries(e.regions ?? {})) {
    const before = prev?.regions[region];
    regions[region] = { verdict, since: before?.verdict === verdict ? before.since : at };
  }
  return {
    verdict: e.consensus,
    since: prev?.verdict === e.consensus ? prev.since : at,
    regions,
    lastRound: e.round,
    lastCheckedAt: prev?.lastCheckedAt ?? null,
    lastLatencyMs: prev?.lastLatencyMs ?? null,
  };
}

export function applyPing(e: PingResultEvent): void {
  later(() => {
    const byId = sites.get().byId;
    const site = byId.get(e.siteId);
    if (!site) return;
    const prev = site.status;
    if (prev?.lastCheckedAt && prev.lastCheckedAt > e.checkedAt) return;
    const status: SiteState = {
      verdict: prev?.verdict ?? 'UNKNOWN',
      since: prev?.since ?? null,
      regions: prev?.regions ?? {},
      lastRound: prev?.lastRound ?? null,
      lastCheckedAt: e.checkedAt,
      lastLatencyMs: e.latencyMs,
    };
    byId.set(site.id, { ...site, status });
  });
}
