import type { LogEntry, StateMachine } from '@/core/raft/raft.types';

/**
 * The small key-value state machine the Raft tests replicate. Commands are
 * JSON `{ op: 'put' | 'append', key, value }`; reads go through ReadIndex and
 * `get`. `stateHash` is an order-independent digest kept incrementally (a
 * polynomial hash per value, so an append costs only its own length), letting
 * a simulator compare replicas at every index cheaply.
 */
export type KvCommand =
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'append'; readonly key: string; readonly value: string };

export function encodeKv(cmd: KvCommand): string {
  return JSON.stringify(cmd);
}

interface Slot {
  value: string;
  /** polynomial hash of value, and BASE^value.length (both mod 2^32) */
  hash: number;
  pow: number;
}

const BASE = 0x01000193;

export class KvStateMachine implements StateMachine<void> {
  private data = new Map<string, Slot>();
  private digest = 0;

  get(key: string): string {
    return this.data.get(key)?.value ?? '';
  }

  get stateHash(): number {
    return this.digest >>> 0;
  }

  get size(): number {
    return this.data.size;
  }

  apply(entry: LogEntry): void {
    if (entry.type !== 'command') return;
    const text = typeof entry.data === 'string' ? entry.data : new TextDecoder().decode(entry.data);
    let cmd: KvCommand;
    try {
      cmd = JSON.parse(text) as KvCommand;
    } catch {
      return; // opaque test commands (plain strings) change nothing
    }
    if (typeof cmd !== 'object' || cmd === null || typeof cmd.key !== 'string') return;
    const old = this.data.get(cmd.key);
    if (cmd.op === 'append' && old) {
      const [h, p] = poly(cmd.value);
      this.replace(cmd.key, old, {
        value: old.value + cmd.value,
        hash: (Math.imul(old.hash, p) + h) | 0,
        pow: Math.imul(old.pow, p),
      });
    } else {
      const [hash, pow] = poly(cmd.value);
      this.replace(cmd.key, old, { value: cmd.value, hash, pow });
    }
  }

  snapshot(): Uint8Array {
    const pairs = [...this.data.entries()].map(([k, slot]) => [k, slot.value]);
    return new TextEncoder().encode(JSON.stringify(pairs));
  }

  restore(bytes: Uint8Array): void {
    const pairs = JSON.parse(new TextDecoder().decode(bytes)) as [string, string][];
    this.data = new Map();
    this.digest = 0;
    for (const [k, v] of pairs) {
      const [hash, pow] = poly(v);
      this.replace(k, undefined, { value: v, hash, pow });
    }
  }

  private replace(key: string, old: Slot | undefined, next: Slot): void {
    if (old) this.digest ^= pairHash(key, old.hash);
    this.data.set(key, next);
    this.digest ^= pairHash(key, next.hash);
  }
}

function poly(s: string): [number, number] {
  let h = 0;
  let p = 1;
  for (let i = 0; i < s.length; i++) {
    h = (Math.imul(h, BASE) + s.charCodeAt(i)) | 0;
    p = Math.imul(p, BASE);
  }
  return [h, p];
}

function pairHash(key: string, valueHash: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ valueHash, 0x85ebca6b);
  return h ^ (h >>> 13);
}
