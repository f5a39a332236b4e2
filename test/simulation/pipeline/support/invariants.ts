import { SiteStatusMachine } from '@/core/consensus/site-status.machine';
import { CHANNELS, type World } from './world';

/**
 * The projection's promise, checked against a status machine that applied the whole
 * committed log once: the decisions rows are exactly the log's decisions (none lost,
 * none twice), the cursor covers the log, each site's status is the log's last word,
 * and every transition has one alert, delivered once per channel.
 */
export function violations(world: World): string[] {
  const out = [...world.db.violations];
  const ref = new SiteStatusMachine();
  const rows = new Map<string, string>();
  const status = new Map<string, string>();
  const keys = new Set<string>();
  for (const e of world.log) {
    if (e.command === null) continue;
    const r = ref.apply({ index: e.index, term: e.term, type: 'command', data: e.command });
    const all = r.kind === 'batch' ? r.results : r.kind === 'decision' ? [r] : [];
    all.forEach((x, pos) => {
      if (x.kind !== 'decision') return;
      rows.set(
        `${e.index}:${pos}`,
        `${x.decision.siteId}:${x.decision.round}:${x.decision.verdict}`,
      );
      status.set(x.decision.siteId, `${e.index}:${x.status.verdict}:${x.status.lastRound}`);
      for (const t of x.transitions) keys.add(t.dedupKey);
    });
  }
  const db = world.db;
  if (db.cursor !== world.log.length) out.push(`cursor ${db.cursor}, log ${world.log.length}`);
  const missing = [...rows.keys()].filter((k) => !db.rows.has(k));
  const extra = [...db.rows.keys()].filter((k) => !rows.has(k));
  if (missing.length) out.push(`${missing.length} decisions lost, first ${missing[0]}`);
  if (extra.length) out.push(`${extra.length} rows not in the log, first ${extra[0]}`);
  for (const [k, v] of db.rows) {
    const want = rows.get(k);
    const got = `${v.siteId}:${v.round}:${v.verdict}`;
    if (want !== undefined && want !== got) out.push(`row ${k} is ${got}, log says ${want}`);
  }
  for (const [site, want] of status) {
    const s = db.status.get(site);
    const got = s ? `${s.lastLogIndex}:${s.verdict}:${s.lastRound}` : 'none';
    if (got !== want) out.push(`status of ${site} is ${got}, log says ${want}`);
  }
  const lostAlerts = [...keys].filter((k) => !db.alerts.has(k));
  const strayAlerts = [...db.alerts.keys()].filter((k) => !keys.has(k));
  if (lostAlerts.length) out.push(`${lostAlerts.length} alerts lost, first ${lostAlerts[0]}`);
  if (strayAlerts.length) out.push(`${strayAlerts.length} alerts for no transition`);
  for (const k of keys)
    for (const c of CHANNELS) {
      const n = db.deliveries.get(`${k}|${c}`) ?? 0;
      if (n > 1) out.push(`alert ${k} delivered ${n} times on ${c}`);
    }
  return out;
}

/** Runs the world; returns what broke (empty: the invariant holds). */
export function runAndCheck(world: World): string[] {
  world.run();
  return violations(world);
}
