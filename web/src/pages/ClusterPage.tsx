// The cluster as the answering node sees it: validators, regions, Raft role and term,
// gossip and tally counters. Refreshed every few seconds.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api';
import { ago } from '../lib/format';
import type { ClusterOverview } from '../lib/types';

const REFRESH_MS = 5_000;

export default function ClusterPage() {
  const [c, setC] = useState<ClusterOverview | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const load = () =>
      api<ClusterOverview>('/api/dashboard/cluster')
        .then((x) => live && (setC(x), setError(null)))
        .catch((e: unknown) => live && setError((e as Error).message));
    void load();
    const t = setInterval(() => void load(), REFRESH_MS);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, []);
  if (!c)
    return (
      <>
        <h1>Cluster</h1>
        {error ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : (
          <p class="loading">Loading…</p>
        )}
      </>
    );
  const r = c.node.raft;
  return (
    <>
      <h1>Cluster</h1>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <section class="panel" aria-labelledby="node-h">
        <h2 id="node-h">
          This node: {c.node.validatorId} ({c.node.region})
        </h2>
        <dl class="figures">
          <div>
            <dt>Raft role</dt>
            <dd data-testid="raft-role">{r.role}</dd>
          </div>
          <div>
            <dt>Term</dt>
            <dd>{r.term}</dd>
          </div>
          <div>
            <dt>Leader</dt>
            <dd>{r.leader ?? 'none known'}</dd>
          </div>
          <div>
            <dt>Commit index</dt>
            <dd>{r.commitIndex}</dd>
          </div>
          <div>
            <dt>Applied index</dt>
            <dd>{r.appliedIndex}</dd>
          </div>
          <div>
            <dt>Voters</dt>
            <dd>{r.voters}</dd>
          </div>
        </dl>
      </section>
      <section class="panel" aria-labelledby="validators-h">
        <h2 id="validators-h">Validators</h2>
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Validator</th>
              <th scope="col">Region</th>
              <th scope="col">Raft role</th>
              <th scope="col">State</th>
              <th scope="col">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {c.validators.map((v) => (
              <tr key={v.id}>
                <td>
                  {v.id}
                  {v.self && <span class="muted"> (this node)</span>}
                </td>
                <td>{v.region}</td>
                <td>{v.raftRole ?? <span class="muted">not known here</span>}</td>
                <td>
                  <span class={`chip chip-${v.live ? 'up' : 'down'}`}>
                    {v.live ? 'live' : 'silent'}
                  </span>
                </td>
                <td>{ago(v.lastSeenAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section class="panel" aria-labelledby="regions-h">
        <h2 id="regions-h">Regions</h2>
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Region</th>
              <th scope="col" class="num">
                Validators
              </th>
              <th scope="col" class="num">
                Live
              </th>
            </tr>
          </thead>
          <tbody>
            {c.regions.map((g) => (
              <tr key={g.region}>
                <td>{g.region}</td>
                <td class="num">{g.validators}</td>
                <td class="num">{g.live}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <div class="two">
        <section class="panel" aria-labelledby="gossip-h">
          <h2 id="gossip-h">Gossip (this node)</h2>
          <Counters
            values={{
              'own votes published': c.gossip.published,
              'peer votes accepted': c.gossip.accepted,
              'votes forwarded': c.gossip.forwarded,
              'messages sent': c.gossip.sentMessages,
              'send failures': c.gossip.sendFailures,
              'votes queued': c.gossip.queued,
              ...prefixed('rejected: ', c.gossip.rejected),
              ...prefixed('dropped: ', c.gossip.dropped),
            }}
          />
        </section>
        <section class="panel" aria-labelledby="tally-h">
          <h2 id="tally-h">Tally (this node)</h2>
          <Counters
            values={{
              'open rounds': c.tally.open ?? 0,
              'votes counted': c.tally.counted ?? 0,
              'duplicate votes': c.tally.duplicate ?? 0,
              'conflicting votes': c.tally.conflicting ?? 0,
              'rounds finalized': c.tally.finalized ?? 0,
              'finalized, all voted': c.tally.finalizedComplete ?? 0,
              'finalized at deadline': c.tally.finalizedDeadline ?? 0,
              'late votes (round closed)': c.tally.closed ?? 0,
              'rounds evicted': c.tally.evictedRounds ?? 0,
            }}
          />
        </section>
      </div>
      <p class="muted">
        Updated {ago(c.generatedAt)}; refreshes every {REFRESH_MS / 1000} s.
      </p>
    </>
  );
}

function prefixed(p: string, o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [p + k, v]));
}

function Counters({ values }: { values: Record<string, number> }) {
  return (
    <dl class="counters">
      {Object.entries(values).map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v.toLocaleString()}</dd>
        </div>
      ))}
    </dl>
  );
}
