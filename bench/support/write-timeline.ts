/**
 * Folds the nodes' RAFT_TRACE_DIR stamps (src/modules/raft/raft-trace.ts) into
 * one write's timeline: the median and p99 of each step, per entry index, over
 * every write the leader proposed. The follower is the first to ack each entry.
 * Usage: ts-node bench/support/write-timeline.ts <dir>
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { percentile } from './results';

type Stamps = Map<string, Map<number, number>>;

function load(file: string): Stamps {
  const out: Stamps = new Map();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [stage, index, t] = line.split(' ');
    if (!t) continue;
    let m = out.get(stage);
    if (!m) out.set(stage, (m = new Map()));
    // the first stamp of an index counts (a retransmission is not the write's path)
    if (!m.has(Number(index))) m.set(Number(index), Number(t));
  }
  return out;
}

export function writeTimeline(dir: string): string {
  const nodes = readdirSync(dir)
    .filter((f) => f.endsWith('.trace'))
    .map((f) => load(join(dir, f)));
  const leader = nodes.reduce((a, b) =>
    (b.get('proposed')?.size ?? 0) > (a.get('proposed')?.size ?? 0) ? b : a,
  );
  const followers = nodes.filter((n) => n !== leader);
  const at = (n: Stamps, stage: string, i: number) => n.get(stage)?.get(i);
  const steps: [string, number[]][] = [
    'request → proposed',
    'proposed → sent (leader)',
    'sent → received (follower)',
    'received → durable (follower fsync)',
    'durable → acked (follower)',
    'acked → ack-received (leader)',
    'ack-received → applied (leader)',
    'applied → answered',
    'proposed → durable (leader fsync, in parallel)',
    'request → answered (total)',
  ].map((s) => [s, []]);
  for (const i of leader.get('proposed')?.keys() ?? []) {
    const ackAt = (f: Stamps) => at(f, 'acked', i) ?? Infinity;
    const f = followers.reduce((a, b) => (ackAt(b) < ackAt(a) ? b : a), followers[0]);
    if (!f) break;
    const t = [
      at(leader, 'request', i),
      at(leader, 'proposed', i),
      at(leader, 'sent', i),
      at(f, 'received', i),
      at(f, 'durable', i),
      at(f, 'acked', i),
      at(leader, 'ack-received', i),
      at(leader, 'applied', i),
      at(leader, 'answered', i),
    ];
    if (t.some((x) => x === undefined)) continue;
    const v = t as number[];
    for (let k = 0; k < 8; k++) steps[k][1].push(v[k + 1] - v[k]);
    const own = at(leader, 'durable', i);
    if (own !== undefined) steps[8][1].push(own - v[1]);
    steps[9][1].push(v[8] - v[0]);
  }
  const rows = steps.map(([name, xs]) => {
    xs.sort((a, b) => a - b);
    return `| ${name} | ${percentile(xs, 50).toFixed(3)} | ${percentile(xs, 99).toFixed(3)} | ${xs.length} |`;
  });
  return ['| step | p50 ms | p99 ms | writes |', '|---|---:|---:|---:|', ...rows].join('\n');
}

if (require.main === module) console.log(writeTimeline(process.argv[2]));
