import type { LogEntry, StateMachine } from '@/core/raft/raft.types';

/**
 * The one state machine the Raft log drives, made of named parts (the cluster
 * key-value map, the site decisions). A command names its part; a snapshot
 * holds every part's image, so all parts move forward with the same log.
 */

export interface NamedCommand {
  m: string;
  c: unknown;
}

export function encodeCommand(machine: string, command: unknown): string {
  return JSON.stringify({ m: machine, c: command } satisfies NamedCommand);
}

export class ReplicatedState implements StateMachine<unknown> {
  private readonly parts = new Map<string, StateMachine<unknown>>();

  register(name: string, sm: StateMachine<unknown>): void {
    if (this.parts.has(name)) throw new Error(`state machine ${name} registered twice`);
    this.parts.set(name, sm);
  }

  apply(entry: LogEntry): unknown {
    const text =
      typeof entry.data === 'string' ? entry.data : Buffer.from(entry.data).toString('utf8');
    let parsed: NamedCommand;
    try {
      parsed = JSON.parse(text) as NamedCommand;
    } catch {
      // Every node skips the same bad entry, so they stay identical.
      return { error: 'undecodable command' };
    }
    const part = this.parts.get(parsed.m);
    if (!part) return { error: `unknown state machine ${String(parsed.m)}` };
    return part.apply({ ...entry, data: JSON.stringify(parsed.c) });
  }

  snapshot(): Uint8Array {
    const image: Record<string, string> = {};
    for (const [name, sm] of this.parts)
      image[name] = Buffer.from(sm.snapshot()).toString('base64');
    return new Uint8Array(Buffer.from(JSON.stringify(image)));
  }

  restore(data: Uint8Array): void {
    const image = JSON.parse(Buffer.from(data).toString('utf8')) as Record<string, string>;
    for (const [name, sm] of this.parts) {
      const part = image[name];
      sm.restore(
        part === undefined ? new Uint8Array() : new Uint8Array(Buffer.from(part, 'base64')),
      );
    }
  }
}
