/**
 * The projection's CommittedLog over the Raft host: committed entries straight from the
 * Raft log, each reduced to its `decisions` command (the exact bytes the part applies),
 * and the decisions part of the snapshot the log starts after.
 */
import type { CommittedEntry, CommittedLog } from '@/core/pipeline/projection.ports';
import { DECISIONS_MACHINE } from '@/modules/consensus/decisions-part';
import type { RaftHost } from '@/modules/raft/raft-host';
import { decodeCommand } from '@/modules/raft/replicated-state';

/** The `decisions` command's JSON of a log entry, as the part applies it; null for other parts. */
export function decisionsCommand(data: string | Uint8Array): string | null {
  const command = decodeCommand(data);
  return command?.machine === DECISIONS_MACHINE ? command.json : null;
}

export class RaftCommittedLog implements CommittedLog {
  constructor(private readonly raft: RaftHost) {}

  snapshot(): { index: number; image: Uint8Array } {
    return this.raft.snapshotOf(DECISIONS_MACHINE);
  }

  committedFrom(from: number, max: number): CommittedEntry[] | undefined {
    return this.raft.committedEntries(from, max)?.map((e) => ({
      index: e.index,
      term: e.term,
      command: e.type === 'command' ? decisionsCommand(e.data) : null,
    }));
  }
}
