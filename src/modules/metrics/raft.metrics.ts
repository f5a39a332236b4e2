/**
 * Raft as this node sees it: role (one series per possible role, 1 for the current one),
 * term, commit and applied index, voters, whether a leader is known, and the latency of
 * every durable append (write + fsync), read from ClusterStatus.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ClusterStatus, RaftRole } from '@/modules/raft/cluster-status';

const ROLES: readonly RaftRole[] = ['leader', 'follower', 'candidate', 'pre-candidate'];
/** Seconds (Prometheus base unit); the host reports ms. */
const APPEND_BUCKETS_S = [
  0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];

export function registerRaftMetrics(registry: Registry, raft: ClusterStatus): () => void {
  const registers = [registry];
  const gauge = (name: string, help: string, value: () => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(value());
      },
    });
  new Gauge({
    name: 'raft_role',
    help: "1 for this node's current Raft role, 0 for the others",
    labelNames: ['role'],
    registers,
    collect() {
      const role = raft.snapshot().role;
      for (const r of ROLES) this.set({ role: r }, r === role ? 1 : 0);
    },
  });
  gauge('raft_term', 'current Raft term', () => raft.snapshot().term);
  gauge(
    'raft_commit_index',
    'highest log index known committed',
    () => raft.snapshot().commitIndex,
  );
  gauge(
    'raft_applied_index',
    'highest log index applied to the state machines',
    () => raft.snapshot().appliedIndex,
  );
  gauge('raft_voters', 'voting members of the Raft group', () => raft.snapshot().voters);
  gauge('raft_leader_known', '1 when this node knows a leader', () =>
    raft.snapshot().leaderId === null ? 0 : 1,
  );
  const append = new Histogram({
    name: 'raft_append_duration_seconds',
    help: 'one durable append to the Raft log (write and fsync)',
    buckets: APPEND_BUCKETS_S,
    registers,
  });
  const appendedEntries = new Histogram({
    name: 'raft_append_entries',
    help: 'entries carried by one durable append (group commit)',
    buckets: [0, 1, 2, 5, 10, 50, 100, 500, 1000, 5000],
    registers,
  });
  const requests = new Counter({
    name: 'raft_http_requests_total',
    help: 'requests to the Raft routes served ahead of Express (no request log), by route and status class',
    labelNames: ['route', 'status'],
    registers,
  });
  const stopAppend = raft.onAppend((ms, entries) => {
    append.observe(ms / 1000);
    appendedEntries.observe(entries);
  });
  // The route is one of the handler's few fixed paths: a bounded label set.
  const stopRequests = raft.onRequest((route, status) =>
    requests.inc({ route, status: `${Math.floor(status / 100)}xx` }),
  );
  return () => {
    stopAppend();
    stopRequests();
  };
}
