// One site: live status and regions, uptime figures, response time per region (uPlot),
// 90 daily uptime bars, incidents with durations, and recent verdicts with their tallies.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { PushTokenShown } from '../components/OneTimeSecret';
import { KIND_LABEL, SiteForm } from '../components/SiteForm';
import { shownState, StatusChip, VerdictChip } from '../components/StatusChip';
import { UptimeBars } from '../components/UptimeBars';
import { api, ApiError } from '../lib/api';
import { ago, duration, interval, ms, pct, time } from '../lib/format';
import { onLive, watchSites } from '../lib/live';
import { putSite, sites } from '../lib/sites-store';
import { useStore } from '../lib/store';
import type {
  DayBar,
  DecisionView,
  Incident,
  PingLog,
  PushToken,
  SiteOverview,
  Summary,
  Website,
} from '../lib/types';
import { Decisions } from './Decisions';
import { LatencyChart, pointsOf, type Point } from './LatencyChart';

interface Loaded {
  website: Website;
  summary: Summary | null;
  days: DayBar[];
  incidents: Incident[];
  decisions: DecisionView[];
}

const HISTORY_LIMIT = 500;

export default function SitePage({ id }: { id: string }) {
  const st = useStore(sites);
  const overview = st.byId.get(id);
  const [data, setData] = useState<Loaded | null>(null);
  const [logs, setLogs] = useState<PingLog[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState(false);
  const [tick, setTick] = useState(0);
  const [token, setToken] = useState<string | null>(null);
  const [rotating, setRotating] = useState<'ask' | 'busy' | null>(null);
  const [rotateError, setRotateError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    const ac = new AbortController();
    const get = <T,>(path: string) => api<T>(path, { signal: ac.signal });
    const from = new Date(Date.now() - 24 * 3_600_000).toISOString();
    Promise.all([
      get<SiteOverview>(`/api/dashboard/sites/${id}`),
      get<Website>(`/api/websites/${id}`),
      get<Summary>(`/api/websites/${id}/summary`).catch(() => null),
      get<{ days: DayBar[] }>(`/api/dashboard/sites/${id}/days?days=90`),
      get<{ items: Incident[] }>(`/api/dashboard/sites/${id}/incidents?limit=20`),
      get<{ items: DecisionView[] }>(`/api/dashboard/sites/${id}/decisions?limit=20`),
      get<{ items: PingLog[] }>(
        `/api/websites/${id}/history?limit=${HISTORY_LIMIT}&from=${encodeURIComponent(from)}`,
      ),
    ])
      .then(([o, website, summary, days, incidents, decisions, history]) => {
        if (!live) return;
        putSite(o);
        setData({
          website,
          summary,
          days: days.days,
          incidents: incidents.items,
          decisions: decisions.items,
        });
        if (tick === 0) setLogs(history.items);
        setError(null);
      })
      .catch((e: unknown) => {
        if (!live || (e as Error).name === 'AbortError') return;
        setError(
          e instanceof ApiError && e.status === 404 ? 'No such site.' : (e as Error).message,
        );
      });
    return () => {
      live = false;
      ac.abort();
    };
  }, [id, tick]);

  // Live: this site's ping results extend the chart; a new verdict reloads the tallies.
  useEffect(() => {
    const unwatch = watchSites([id]);
    let again = 0;
    const offPing = onLive('ping-result', (e) => {
      if (e.siteId !== id) return;
      setLogs((prev) =>
        [
          {
            id: `live-${e.validatorId}-${e.round}`,
            validatorId: e.validatorId,
            region: e.region,
            round: e.round,
            up: e.up,
            latencyMs: e.latencyMs,
            httpStatus: e.httpStatus,
            failure: e.failure,
            checkedAt: e.checkedAt,
          },
          ...prev,
        ].slice(0, HISTORY_LIMIT),
      );
    });
    const offVerdict = onLive('consensus', (e) => {
      if (e.siteId !== id) return;
      clearTimeout(again);
      again = window.setTimeout(() => setTick((t) => t + 1), 400);
    });
    return () => {
      unwatch();
      offPing();
      offVerdict();
      clearTimeout(again);
    };
  }, [id]);

  const points: Point[] = useMemo(() => pointsOf(logs), [logs]);

  if (error)
    return (
      <>
        <h1>Site</h1>
        <p class="error" role="alert">
          {error}
        </p>
        <Link href="/">Back to your sites</Link>
      </>
    );
  if (!data || !overview) return <p class="loading">Loading…</p>;

  const w = data.website;
  // interfaces F: GET /api/websites/:id may carry the live status; the list's is kept live too
  const status = overview.status ?? w.status ?? null;
  const state = shownState(status, overview.paused);
  const windows = data.summary?.windows ?? [];
  const kind = w.check?.kind ?? 'http';
  const cert = w.status?.certificate ?? null;
  const rotate = async () => {
    setRotating('busy');
    setRotateError(null);
    try {
      const t = await api<PushToken>(`/api/websites/${id}/push-token`, { method: 'POST' });
      setToken(t.token);
    } catch (e) {
      setRotateError((e as Error).message);
    } finally {
      setRotating(null);
    }
  };
  const win = (name: string) => windows.find((x) => x.window === name);

  return (
    <>
      <p class="crumbs">
        <Link href="/">Sites</Link> / {w.name}
      </p>
      <div class="page-head">
        <h1>{w.name}</h1>
        <StatusChip state={state} />
        <div class="actions grow">
          {kind === 'push' && rotating === 'ask' && (
            <>
              <span>The current token stops working at once.</span>
              <button type="button" class="danger" onClick={() => void rotate()}>
                Rotate now
              </button>
              <button type="button" onClick={() => setRotating(null)}>
                Keep it
              </button>
            </>
          )}
          {kind === 'push' && rotating !== 'ask' && (
            <button type="button" disabled={rotating === 'busy'} onClick={() => setRotating('ask')}>
              Rotate token
            </button>
          )}
          <button type="button" onClick={() => setEditing(true)}>
            Edit
          </button>
        </div>
      </div>
      {rotateError && (
        <p class="error" role="alert">
          {rotateError}
        </p>
      )}
      {token && <PushTokenShown name={w.name} token={token} onDone={() => setToken(null)} />}
      <p class="muted site-meta">
        <span class="kind-tag">{KIND_LABEL[kind]}</span>{' '}
        {kind === 'push' && w.check?.kind === 'push' ? (
          <>
            · a beat expected every {interval(w.check.periodS * 1000)}, grace{' '}
            {w.check.graceS === 0 ? 'none' : interval(w.check.graceS * 1000)} ·{' '}
            <span data-testid="last-beat">
              last beat{' '}
              {w.status?.lastBeatAt ? (
                <time dateTime={w.status.lastBeatAt} title={time(w.status.lastBeatAt)}>
                  {ago(w.status.lastBeatAt)}
                </time>
              ) : (
                'never'
              )}
            </span>
          </>
        ) : (
          <>
            <span class="url">{w.url}</span> · every {interval(w.intervalMs)} · timeout{' '}
            {ms(w.timeoutMs)}
          </>
        )}
        {status?.since && (
          <>
            {' '}
            · {status.verdict} since {time(status.since)}
          </>
        )}
        {status?.lastCheckedAt && <> · last check {ago(status.lastCheckedAt)}</>}
      </p>
      {cert && (
        <p
          class={`cert ${cert.warning || cert.daysLeft < 14 ? 'cert-warn' : 'cert-ok'}`}
          data-testid="certificate"
          role={cert.warning ? 'alert' : undefined}
        >
          <strong>Certificate:</strong> {cert.daysLeft} day{cert.daysLeft === 1 ? '' : 's'} left
          (valid to {time(cert.validTo)}){cert.warning && <> — renew it soon</>}
          <span class="muted"> · seen {ago(cert.checkedAt)}</span>
        </p>
      )}
      {editing && (
        <SiteForm
          site={w}
          onCancel={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            setTick((t) => t + 1);
          }}
        />
      )}
      <section aria-labelledby="regions-h" class="panel">
        <h2 id="regions-h">Regions</h2>
        {status && Object.keys(status.regions ?? {}).length > 0 ? (
          <ul class="regions">
            {Object.entries(status.regions ?? {}).map(([r, v]) => (
              <li key={r}>
                <VerdictChip verdict={v.verdict} label={r} />
                {v.since && <span class="muted"> since {time(v.since)}</span>}
              </li>
            ))}
          </ul>
        ) : (
          <p class="empty">No per-region verdict yet.</p>
        )}
      </section>
      <section aria-labelledby="uptime-h" class="panel">
        <h2 id="uptime-h">Uptime and latency</h2>
        <dl class="figures">
          {['24h', '7d', '30d', '90d'].map((n) => (
            <div key={n}>
              <dt>Uptime {n}</dt>
              <dd>{pct(win(n)?.uptimePct)}</dd>
            </div>
          ))}
          <div>
            <dt>Mean latency 24h</dt>
            <dd>{ms(win('24h')?.avgLatencyMs)}</dd>
          </div>
          <div>
            <dt>p95 latency 24h</dt>
            <dd>{ms(win('24h')?.p95LatencyMs)}</dd>
          </div>
        </dl>
        <h3>Last 90 days</h3>
        <UptimeBars days={data.days} label={`Daily uptime of ${w.name}`} />
      </section>
      <section aria-labelledby="latency-h" class="panel">
        <h2 id="latency-h">Response time, last 24 hours</h2>
        <LatencyChart points={points} />
      </section>
      <section aria-labelledby="incidents-h" class="panel">
        <h2 id="incidents-h">Incidents</h2>
        <Incidents items={data.incidents} />
      </section>
      <section aria-labelledby="decisions-h" class="panel">
        <h2 id="decisions-h">Recent verdicts and their tallies</h2>
        <Decisions key={data.decisions[0]?.logIndex ?? 0} items={data.decisions} />
      </section>
    </>
  );
}

export function Incidents({ items }: { items: Incident[] }) {
  if (items.length === 0) return <p class="empty">No incidents.</p>;
  return (
    <table class="table">
      <thead>
        <tr>
          <th scope="col">Scope</th>
          <th scope="col">Started</th>
          <th scope="col">Ended</th>
          <th scope="col" class="num">
            Duration
          </th>
          <th scope="col" class="num">
            Rounds
          </th>
        </tr>
      </thead>
      <tbody>
        {items.map((i) => (
          <tr key={i.id}>
            <td>{i.region ? `region ${i.region}` : 'all regions'}</td>
            <td>{time(i.startedAt)}</td>
            <td>{i.endedAt ? time(i.endedAt) : <strong>ongoing</strong>}</td>
            <td class="num">{duration(i.durationMs)}</td>
            <td class="num">
              {i.startRound}–{i.endRound ?? '…'}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
