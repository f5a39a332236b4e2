// Recent verdicts and the tally behind each: who voted, from where, up or down, how fast,
// which failure, and the Raft log index that committed it.
import { useState } from 'preact/hooks';
import { VerdictChip } from '../components/StatusChip';
import { ms, time } from '../lib/format';
import type { DecisionView } from '../lib/types';

export function Decisions({ items }: { items: DecisionView[] }) {
  const [open, setOpen] = useState<Set<number>>(() => new Set(items[0] ? [items[0].logIndex] : []));
  if (items.length === 0) return <p class="empty">No committed verdicts yet.</p>;
  const toggle = (i: number) => {
    const next = new Set(open);
    if (next.has(i)) next.delete(i);
    else next.add(i);
    setOpen(next);
  };
  return (
    <table class="table decisions">
      <caption class="sr-only">Recent verdicts with their tallies</caption>
      <thead>
        <tr>
          <th scope="col">Decided</th>
          <th scope="col" class="num">
            Round
          </th>
          <th scope="col">Verdict</th>
          <th scope="col" class="num">
            Votes up / down / total
          </th>
          <th scope="col">Regions</th>
          <th scope="col" class="num">
            Raft log index
          </th>
          <th scope="col" class="num">
            Term
          </th>
          <th scope="col">Tally</th>
        </tr>
      </thead>
      {items.map((d) => {
        const expanded = open.has(d.logIndex);
        const id = `tally-${d.logIndex}`;
        return (
          <tbody key={d.logIndex} data-log-index={d.logIndex}>
            <tr>
              <td>{time(d.decidedAt)}</td>
              <td class="num">{d.round}</td>
              <td>
                <VerdictChip verdict={d.verdict} />
              </td>
              <td class="num">
                {d.tally.up} / {d.tally.down} / {d.tally.total}
                {d.tally.quorum !== null && <span class="muted"> (quorum {d.tally.quorum})</span>}
              </td>
              <td>
                {Object.entries(d.regionVerdicts).map(([r, v]) => (
                  <VerdictChip key={r} verdict={v} label={r} />
                ))}
              </td>
              <td class="num">{d.logIndex}</td>
              <td class="num">{d.term}</td>
              <td>
                <button
                  type="button"
                  class="link"
                  aria-expanded={expanded}
                  aria-controls={id}
                  onClick={() => toggle(d.logIndex)}
                >
                  {expanded ? 'Hide' : 'Show'} {d.votes.length} votes
                </button>
              </td>
            </tr>
            {expanded && (
              <tr id={id} class="tally-row">
                <td colSpan={8}>
                  <Votes d={d} />
                </td>
              </tr>
            )}
          </tbody>
        );
      })}
    </table>
  );
}

function Votes({ d }: { d: DecisionView }) {
  return (
    <table class="table votes">
      <caption>
        Tally of round {d.round}, committed at Raft log index {d.logIndex} (term {d.term})
      </caption>
      <thead>
        <tr>
          <th scope="col">Validator</th>
          <th scope="col">Region</th>
          <th scope="col">Vote</th>
          <th scope="col" class="num">
            Latency
          </th>
          <th scope="col" class="num">
            HTTP status
          </th>
          <th scope="col">Failure</th>
        </tr>
      </thead>
      <tbody>
        {d.votes.map((v) => (
          <tr key={v.validatorId} data-validator={v.validatorId}>
            <td>{v.validatorId}</td>
            <td>{v.region ?? '–'}</td>
            <td>
              {v.up === null ? (
                <span class="muted">not stored</span>
              ) : (
                <VerdictChip verdict={v.up ? 'UP' : 'DOWN'} />
              )}
            </td>
            <td class="num">{ms(v.latencyMs)}</td>
            <td class="num">{v.httpStatus ?? '–'}</td>
            <td title={v.error ?? undefined}>{v.failure ?? '–'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
