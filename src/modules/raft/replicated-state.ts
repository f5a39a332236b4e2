import type { LogEntry, StateMachine } from '@/core/raft/raft.types';

/**
 * The one state machine the Raft log drives, made of named parts (the cluster
 * key-value map, the site decisions). A command names its part; a snapshot
 * holds every part's image, so all parts move forward with the same log.
 */

/** The bytes of one log command: JSON of {m: machine, c: command}. */
export function encodeCommand(machine: string, command: unknown): string {
  return encodeJsonCommand(machine, JSON.stringify(command) ?? 'null');
}

/**
 * The same envelope around a command already encoded by JSON.stringify, without
 * parsing it: `{"m":<machine>,"c":<json>}` is exactly JSON.stringify's output.
 */
export function encodeJsonCommand(machine: string, json: string): string {
  return `{"m":${JSON.stringify(machine)},"c":${json}}`;
}

/** The envelope's head as the encoder writes it; the command's JSON follows up to the last brace. */
const ENVELOPE_HEAD = /^\{"m":("(?:[^"\\]|\\.)*"),"c":/;

/** The envelope taken apart without parsing the command: its part's name and the command's JSON. */
export function decodeCommand(data: string | Uint8Array): { machine: string; json: string } | null {
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
  const head = ENVELOPE_HEAD.exec(text);
  if (!head || !text.endsWith('}')) return null;
  return { machine: JSON.parse(head[1]) as string, json: text.slice(head[0].length, -1) };
}

/**
 * Whether the entry's command is for part `machine`, from its first bytes only (an entry
 * can hold hundreds of decisions: no need to decode it all to know whose it is).
 */
export function isCommandFor(data: string | Uint8Array, machine: string): boolean {
  const head = `{"m":${JSON.stringify(machine)},"c":`;
  if (typeof data === 'string') return data.startsWith(head);
  return (
    Buffer.from(data.buffer, data.byteOffset, Math.min(data.byteLength, head.length)).toString(
      'utf8',
    ) === head
  );
}

export class ReplicatedState implements StateMachine<unknown> {
  private readonly parts = new Map<string, StateMachine<unknown>>();

  register(name: string, sm: StateMachine<unknown>): void {
    if (this.parts.has(name)) throw new Error(`state machine ${name} registered twice`);
    this.parts.set(name, sm);
  }

  /**
   * Hands the command's JSON text to its part as written (one parse, in the
   * part, instead of parsing the envelope and encoding the command again).
   */
  apply(entry: LogEntry): unknown {
    const command = decodeCommand(entry.data);
    // Every node skips the same bad entry, so they stay identical.
    if (!command) return { error: 'undecodable command' };
    const part = this.parts.get(command.machine);
    if (!part) return { error: `unknown state machine ${command.machine}` };
    try {
      return part.apply({ ...entry, data: command.json });
    } catch (e) {
      if (e instanceof SyntaxError) return { error: 'undecodable command' };
      throw e;
    }
  }

  snapshot(): Uint8Array {
    const image: Record<string, string> = {};
    for (const [name, sm] of this.parts)
      image[name] = Buffer.from(sm.snapshot()).toString('base64');
    return new Uint8Array(Buffer.from(JSON.stringify(image)));
  }

  restore(data: Uint8Array): void {
    const image = parseImage(data);
    for (const [name, sm] of this.parts) sm.restore(partOf(image, name));
  }
}

/** One part's image out of a ReplicatedState snapshot (empty if the part is absent). */
export function partImage(data: Uint8Array, name: string): Uint8Array {
  return partOf(parseImage(data), name);
}

function parseImage(data: Uint8Array): Record<string, string> {
  return JSON.parse(Buffer.from(data).toString('utf8')) as Record<string, string>;
}

function partOf(image: Record<string, string>, name: string): Uint8Array {
  const part = image[name];
  return part === undefined ? new Uint8Array() : new Uint8Array(Buffer.from(part, 'base64'));
}
