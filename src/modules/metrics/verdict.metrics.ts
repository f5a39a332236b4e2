/**
 * The verdict path after gossip: the hub tally's counters and the projector's progress,
 * read at scrape time. Projector lag is the committed log entries after the last one the
 * projector wrote to PostgreSQL (leader only; 0 on a follower, where projector_active is 0).
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { RoundTallyStats } from '@/core/consensus/round-tally';
import type { ProjectorStats } from '@/modules/projection/decision.projector';
import type { ClusterStatus } from '@/modules/raft/cluster-status';

export interface VerdictSources {
  tally: { stats(): RoundTallyStats };
  projector: { readonly stats: ProjectorStats };
  raft: ClusterStatus;
}

export function registerVerdictMetrics(registry: Registry, src: VerdictSources): void {
  const registers = [registry];
  const mirror = (name: string, help: string, value: () => number) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        // The tally and projector own the running totals; mirror them at scrape time.
        this.reset();
        this.inc(value());
      },
    });
  const tally = () => src.tally.stats();
  new Gauge({
    name: 'tally_open_rounds',
    help: 'rounds the hub tally holds open',
    registers,
    collect() {
      this.set(tally().open);
    },
  });
  mirror('tally_votes_counted_total', 'votes counted into a round', () => tally().counted);
  mirror('tally_votes_duplicate_total', 'votes seen twice (dropped)', () => tally().duplicate);
  mirror(
    'tally_votes_conflicting_total',
    'a validator voting twice differently in a round',
    () => tally().conflicting,
  );
  new Counter({
    name: 'tally_rounds_finalized_total',
    help: 'rounds finalized, by why: complete (every live validator voted) or deadline',
    labelNames: ['why'],
    registers,
    collect() {
      this.reset();
      const s = tally();
      this.inc({ why: 'complete' }, s.finalizedComplete);
      this.inc({ why: 'deadline' }, s.finalizedDeadline);
    },
  });
  mirror(
    'tally_rounds_evicted_total',
    'open rounds dropped undecided at the open-round bound',
    () => tally().evictedRounds,
  );

  mirror(
    'projector_decisions_projected_total',
    'decisions written to PostgreSQL by this node',
    () => src.projector.stats.projected,
  );
  mirror(
    'projector_failures_total',
    'failed projection batches (retried)',
    () => src.projector.stats.failures,
  );
  const active = () => src.raft.snapshot().role === 'leader';
  new Gauge({
    name: 'projector_active',
    help: '1 when this node projects (it is the Raft leader)',
    registers,
    collect() {
      this.set(active() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'projector_lag_entries',
    help: 'committed log entries after the last one projected (leader only, else 0)',
    registers,
    collect() {
      const last = src.projector.stats.lastIndex;
      const commit = src.raft.snapshot().commitIndex;
      this.set(active() && last !== null ? Math.max(0, commit - last) : 0);
    },
  });
}
