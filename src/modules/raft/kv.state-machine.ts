import type { LogEntry, StateMachine } from '@/core/raft/raft.types';

/**
 * A small replicated key-value map (cluster metadata; the Raft tests' state
 * machine). `append` returns the value before, so a test can see every write once.
 */
export type KvCommand =
  { op: 'put'; key: string; value: string } | { op: 'append'; key: string; value: string };

export interface KvResult {
  index: number;
  previous: string | null;
}

export class KvStateMachine implements StateMachine<KvResult> {
  private map = new Map<string, string>();

  apply(entry: LogEntry): KvResult {
    const cmd = JSON.parse(
      typeof entry.data === 'string' ? entry.data : Buffer.from(entry.data).toString(),
    ) as KvCommand;
    const previous = this.map.get(cmd.key) ?? null;
    this.map.set(cmd.key, cmd.op === 'put' ? cmd.value : (previous ?? '') + cmd.value);
    return { index: entry.index, previous };
  }

  get(key: string): string | null {
    return this.map.get(key) ?? null;
  }

  snapshot(): Uint8Array {
    return new Uint8Array(Buffer.from(JSON.stringify([...this.map.entries()])));
  }

  restore(data: Uint8Array): void {
    this.map =
      data.length === 0
        ? new Map()
        : new Map(JSON.parse(Buffer.from(data).toString()) as [string, string][]);
  }
}
