// The site list: every site of the account (5,000 and more) in a windowed list, filtered in
// memory, with live status. The visible rows are subscribed for ping results.
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { PushTokenShown } from '../components/OneTimeSecret';
import { SiteForm } from '../components/SiteForm';
import { Sparkline } from '../components/Sparkline';
import { shownState, StatusChip, type Shown } from '../components/StatusChip';
import { VirtualList } from '../components/VirtualList';
import { api, ApiError } from '../lib/api';
import { ms, pct } from '../lib/format';
import { onLive, watchSites } from '../lib/live';
import { dropSite, hasStats, mergeSite, putSite, sites } from '../lib/sites-store';
import { useStore } from '../lib/store';
import type { SiteOverview, Website } from '../lib/types';

const ROW_HEIGHT = 56;
/** rows in view are read again this long after a verdict for one of them, and every minute */
const REFRESH_AFTER_VERDICT_MS = 2_000;
const REFRESH_EVERY_MS = 60_000;
/** how long the range in view must stay put before its rows are subscribed and read */
const RANGE_SETTLE_MS = 150;

/** Last check, uptime and sparkline of these sites (at most 100 per request). */
async function readStats(ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 100) {
    const chunk = ids.slice(i, i + 100);
    try {
      const r = await api<{ items: SiteOverview[] }>(`/api/dashboard/sites?ids=${chunk.join(',')}`);
      r.items.forEach(mergeSite);
    } catch {
      // shown without figures until the next refresh
    }
  }
}
type Filter = 'all' | Shown;

const FILTERS: [Filter, string][] = [
  ['all', 'All'],
  ['up', 'Up'],
  ['down', 'Down'],
  ['partial', 'Region down'],
  ['unknown', 'Unknown'],
  ['pending', 'Pending'],
  ['paused', 'Paused'],
];

let readyMarked = false;

export function Dashboard() {
  const st = useStore(sites);
  const [query, setQuery] = useState('');
  const [filter, setFilter] = useState<Filter>('all');
  const [form, setForm] = useState<null | { site?: Website }>(null);
  const [notice, setNotice] = useState<string | null>(null);
  // a push site's token, from the answer to its creation: shown once
  const [issued, setIssued] = useState<null | { name: string; token: string }>(null);
  /** the site whose delete button asks for confirmation (rows are reused while scrolling) */
  const [confirming, setConfirming] = useState<string | null>(null);

  const { shown, counts } = useMemo(() => {
    const q = query.trim().toLowerCase();
    const counts: Record<Filter, number> = {
      all: 0,
      up: 0,
      down: 0,
      partial: 0,
      unknown: 0,
      pending: 0,
      paused: 0,
    };
    const shown: SiteOverview[] = [];
    for (const id of st.order) {
      const s = st.byId.get(id);
      if (!s) continue;
      const state = shownState(s.status, s.paused);
      counts.all++;
      counts[state]++;
      if (filter !== 'all' && state !== filter) continue;
      if (q && !s.name.toLowerCase().includes(q) && !s.url.toLowerCase().includes(q)) continue;
      shown.push(s);
    }
    return { shown, counts };
  }, [st.version, st.order, query, filter]);

  useEffect(() => {
    if (!st.done || readyMarked) return;
    readyMarked = true;
    // after the frame that shows the whole list has been painted
    requestAnimationFrame(() =>
      setTimeout(() => {
        performance.mark('app:sites-ready');
        document.documentElement.dataset.sitesReady = String(st.order.length);
      }, 0),
    );
  }, [st.done]);

  // Ping results for the rows in view, re-subscribed a moment after scrolling stops.
  const shownRef = useRef(shown);
  shownRef.current = shown;
  const release = useRef<(() => void) | null>(null);
  const visible = useRef<Set<string>>(new Set());
  const timer = useRef(0);
  const onRange = useCallback((first: number, last: number) => {
    clearTimeout(timer.current);
    timer.current = window.setTimeout(() => {
      const ids = shownRef.current.slice(Math.max(0, first), last + 1).map((s) => s.id);
      visible.current = new Set(ids);
      const next = watchSites(ids);
      release.current?.();
      release.current = next;
      void readStats(ids.filter((id) => !hasStats(id)));
    }, RANGE_SETTLE_MS);
  }, []);
  // Last check, uptime and sparkline of the rows in view: read again after their verdicts
  // (ping results, when the node sends them, update the last check at once).
  useEffect(() => {
    let pending = 0;
    const refreshVisible = () => {
      pending = 0;
      void readStats([...visible.current]);
    };
    const off = onLive('consensus', (e) => {
      if (!visible.current.has(e.siteId) || pending) return;
      pending = window.setTimeout(refreshVisible, REFRESH_AFTER_VERDICT_MS);
    });
    const every = window.setInterval(refreshVisible, REFRESH_EVERY_MS);
    return () => {
      off();
      clearTimeout(pending);
      clearInterval(every);
      clearTimeout(timer.current);
      release.current?.();
    };
  }, []);

  const refresh = async (id: string) => {
    putSite(await api<SiteOverview>(`/api/dashboard/sites/${id}`));
  };

  const edit = async (id: string) => {
    try {
      setForm({ site: await api<Website>(`/api/websites/${id}`) });
    } catch (e) {
      setNotice((e as Error).message);
    }
  };

  const row = (i: number) => {
    const s = shown[i];
    return s ? (
      <SiteRow
        site={s}
        stats={hasStats(s.id)}
        confirming={confirming === s.id}
        onConfirm={setConfirming}
        onEdit={edit}
        onChanged={refresh}
        onNotice={setNotice}
      />
    ) : null;
  };

  const loadedText =
    st.total !== null && st.order.length < st.total
      ? `Loading ${st.order.length} of ${st.total} sites…`
      : `${counts.all} sites`;

  return (
    <>
      <div class="page-head">
        <h1>Sites</h1>
        <p class="summary grow" aria-live="polite">
          {loadedText}: <strong>{counts.up}</strong> up, <strong>{counts.down}</strong> down,{' '}
          <strong>{counts.partial}</strong> with a region down, <strong>{counts.paused}</strong>{' '}
          paused
        </p>
        <button type="button" class="primary" onClick={() => setForm({})}>
          Add site
        </button>
      </div>
      {form && (
        <SiteForm
          key={form.site?.id ?? 'new'}
          site={form.site}
          onCancel={() => setForm(null)}
          onSaved={(w) => {
            setForm(null);
            if (w.pushToken) setIssued({ name: w.name, token: w.pushToken });
            setNotice(form.site ? `Saved ${w.name}.` : `Added ${w.name}.`);
            void refresh(w.id);
          }}
        />
      )}
      {issued && (
        <PushTokenShown name={issued.name} token={issued.token} onDone={() => setIssued(null)} />
      )}
      {notice && (
        <p class="notice" role="status">
          {notice}{' '}
          <button type="button" class="link" onClick={() => setNotice(null)}>
            Dismiss
          </button>
        </p>
      )}
      {st.error && (
        <p class="error" role="alert">
          Could not load your sites: {st.error}
        </p>
      )}
      <div class="toolbar">
        <label for="site-search">Search</label>
        <input
          id="site-search"
          type="search"
          placeholder="name or URL"
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
        />
        <label for="site-filter">Show</label>
        <select
          id="site-filter"
          value={filter}
          onChange={(e) => setFilter(e.currentTarget.value as Filter)}
        >
          {FILTERS.map(([f, label]) => (
            <option key={f} value={f}>
              {label} ({counts[f]})
            </option>
          ))}
        </select>
        <span class="muted" aria-live="polite">
          {shown.length} shown
        </span>
      </div>
      <div class="list-head" aria-hidden="true">
        <span>Status</span>
        <span>Site</span>
        <span>Last check</span>
        <span>Uptime 24 h</span>
        <span>Latency 24 h</span>
        <span />
      </div>
      {st.order.length === 0 && st.done ? (
        <p class="empty">No sites yet. Add one to start monitoring.</p>
      ) : (
        <VirtualList
          count={shown.length}
          rowHeight={ROW_HEIGHT}
          row={row}
          label="Your sites"
          onRange={onRange}
        />
      )}
    </>
  );
}

function SiteRow({
  site: s,
  stats,
  confirming,
  onConfirm,
  onEdit,
  onChanged,
  onNotice,
}: {
  site: SiteOverview;
  /** false: last check, uptime and sparkline not read yet */
  stats: boolean;
  confirming: boolean;
  onConfirm: (id: string | null) => void;
  onEdit: (id: string) => Promise<void>;
  onChanged: (id: string) => Promise<void>;
  onNotice: (m: string) => void;
}) {
  const state = shownState(s.status, s.paused);
  const act = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (e) {
      onNotice(e instanceof ApiError ? e.message : String(e));
    }
  };
  return (
    <div class="row" data-site-id={s.id} data-state={state}>
      <StatusChip state={state} />
      <div class="row-name">
        <Link href={`/sites/${s.id}`}>{s.name}</Link>
        <span class="url">{s.url.startsWith('push://') ? 'push monitor (heartbeat)' : s.url}</span>
      </div>
      <span class="num">
        <span class="sr-only">Last check: </span>
        {stats || s.status?.lastLatencyMs != null ? ms(s.status?.lastLatencyMs) : '…'}
      </span>
      <span class="num">
        <span class="sr-only">Uptime 24 h: </span>
        {stats ? pct(s.uptime24h) : '…'}
      </span>
      {stats ? (
        <Sparkline values={s.spark} label={`Latency of ${s.name}, last 24 h`} />
      ) : (
        <span class="spark-empty">…</span>
      )}
      <div class="row-actions">
        {confirming ? (
          <>
            <button
              type="button"
              class="danger"
              onClick={() =>
                void act(async () => {
                  await api(`/api/websites/${s.id}`, { method: 'DELETE' });
                  dropSite(s.id);
                  onNotice(`Deleted ${s.name}.`);
                })
              }
            >
              Delete {s.name}?
            </button>
            <button type="button" onClick={() => onConfirm(null)}>
              Keep
            </button>
          </>
        ) : (
          <>
            <button type="button" aria-label={`Edit ${s.name}`} onClick={() => void onEdit(s.id)}>
              Edit
            </button>
            <button
              type="button"
              aria-label={`${s.paused ? 'Resume' : 'Pause'} ${s.name}`}
              onClick={() =>
                void act(async () => {
                  await api(`/api/websites/${s.id}/pause`, {
                    method: 'PUT',
                    body: { paused: !s.paused },
                  });
                  await onChanged(s.id);
                })
              }
            >
              {s.paused ? 'Resume' : 'Pause'}
            </button>
            <button type="button" aria-label={`Delete ${s.name}`} onClick={() => onConfirm(s.id)}>
              Delete
            </button>
          </>
        )}
      </div>
    </div>
  );
}
