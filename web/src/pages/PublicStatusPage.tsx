// /status/<slug>: what anyone sees, without signing in. Read-only, refreshed every 30 s.
import { useEffect, useState } from 'preact/hooks';
import { StatusChip, VerdictChip, shownState } from '../components/StatusChip';
import { UptimeBars } from '../components/UptimeBars';
import { api, ApiError } from '../lib/api';
import { duration, pct, time } from '../lib/format';
import type { PublicStatusPage as Page } from '../lib/types';

const REFRESH_MS = 30_000;

const BANNER: Record<Page['state'], string> = {
  operational: 'All systems operational',
  degraded: 'Partial outage: some regions are down',
  outage: 'Outage: some services are down',
  maintenance: 'Under maintenance: the services down are in scheduled maintenance',
  unknown: 'Status not known yet',
};

export default function PublicStatusPage({ slug }: { slug: string }) {
  const [page, setPage] = useState<Page | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const load = () =>
      api<Page>(`/api/public/status-pages/${encodeURIComponent(slug)}`, { auth: false })
        .then((p) => {
          if (!live) return;
          setPage(p);
          setError(null);
          document.title = `${p.title} status`;
        })
        .catch((e: unknown) => {
          if (!live) return;
          setError(
            e instanceof ApiError && e.status === 404
              ? 'No such status page.'
              : (e as Error).message,
          );
        });
    void load();
    const t = setInterval(() => void load(), REFRESH_MS);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [slug]);

  return (
    <main id="main" class="public">
      {!page ? (
        error ? (
          <>
            <h1>Status</h1>
            <p class="error" role="alert">
              {error}
            </p>
          </>
        ) : (
          <p class="loading">Loading…</p>
        )
      ) : (
        <>
          <h1>{page.title}</h1>
          {page.description && <p class="lead">{page.description}</p>}
          <p class={`banner banner-${page.state}`} role="status" data-state={page.state}>
            {BANNER[page.state]}
          </p>
          {page.maintenance.length > 0 && (
            <section class="panel" aria-labelledby="maintenance-h">
              <h2 id="maintenance-h">Scheduled maintenance</h2>
              <ul class="maintenance">
                {page.maintenance.map((m) => {
                  const names = m.siteIds
                    .map((id) => page.sites.find((s) => s.id === id)?.name)
                    .filter(Boolean);
                  return (
                    <li key={`${m.title}|${m.start}`} data-active={String(m.activeNow)}>
                      <strong>{m.title}</strong>
                      {m.activeNow ? ' (in progress) ' : ' '}
                      {time(m.start)} – {time(m.end)}
                      {names.length > 0 ? ` · ${names.join(', ')}` : ''}
                    </li>
                  );
                })}
              </ul>
            </section>
          )}
          {page.sites.length === 0 && <p class="empty">No services listed yet.</p>}
          {page.sites.map((s) => {
            const state = shownState(s.status, s.paused);
            return (
              <section
                key={s.id}
                class="panel public-site"
                aria-labelledby={`s-${s.id}`}
                data-site-id={s.id}
              >
                <div class="page-head">
                  <h2 id={`s-${s.id}`}>{s.name}</h2>
                  <StatusChip state={state} />
                  <span class="muted grow">uptime 90 days {pct(s.uptime['90d'])}</span>
                </div>
                {s.url && <p class="url">{s.url}</p>}
                {s.status && Object.keys(s.status.regions).length > 0 && (
                  <ul class="regions" aria-label={`Regions of ${s.name}`}>
                    {Object.entries(s.status.regions).map(([r, v]) => (
                      <li key={r}>
                        <VerdictChip verdict={v.verdict} label={r} />
                      </li>
                    ))}
                  </ul>
                )}
                <UptimeBars days={s.days} label={`Daily uptime of ${s.name}`} />
                <h3>Incidents</h3>
                {s.incidents.length === 0 ? (
                  <p class="empty">No incidents in the last 90 days.</p>
                ) : (
                  <ul class="incidents">
                    {s.incidents.map((i) => (
                      <li key={i.id}>
                        {i.region ? `Down in ${i.region}` : 'Down everywhere'} from{' '}
                        {time(i.startedAt)}{' '}
                        {i.endedAt
                          ? `for ${duration(i.durationMs)}`
                          : `(ongoing, ${duration(i.durationMs)})`}
                      </li>
                    ))}
                  </ul>
                )}
              </section>
            );
          })}
          <p class="muted">Updated {time(page.generatedAt)}.</p>
        </>
      )}
    </main>
  );
}
