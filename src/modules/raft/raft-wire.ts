import { z } from 'zod';
import type { RaftMessage } from '@/core/raft/raft.messages';
import type { Command, LogEntry } from '@/core/raft/raft.types';

/**
 * JSON wire format of Raft messages. Binary payloads travel as base64 in a
 * tagged object; every incoming message is validated in full before it may
 * reach the core, so a malformed RPC is a 400 that changes nothing.
 */

type WireCommand = string | { b64: string };

function decodeCommand(w: WireCommand): Command {
  return typeof w === 'string' ? w : new Uint8Array(Buffer.from(w.b64, 'base64'));
}

const MAX_ID = 300;
const id = z.string().min(1).max(MAX_ID);
const nat = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const b64 = z
  .string()
  .max(64 * 1024 * 1024)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/);
const command = z.union([z.string().max(4 * 1024 * 1024), z.strictObject({ b64 })]);
const entry = z.strictObject({
  index: nat.min(1),
  term: nat,
  type: z.enum(['command', 'noop']),
  data: command,
});
const envelope = { from: id, to: id, term: nat };

export const wireMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('PreVote'), ...envelope, lastLogIndex: nat, lastLogTerm: nat }),
  z.strictObject({ type: z.literal('PreVoteResponse'), ...envelope, granted: z.boolean() }),
  z.strictObject({
    type: z.literal('RequestVote'),
    ...envelope,
    lastLogIndex: nat,
    lastLogTerm: nat,
    transfer: z.boolean(),
  }),
  z.strictObject({ type: z.literal('RequestVoteResponse'), ...envelope, granted: z.boolean() }),
  z.strictObject({
    type: z.literal('AppendEntries'),
    ...envelope,
    prevLogIndex: nat,
    prevLogTerm: nat,
    entries: z.array(entry).max(100_000),
    leaderCommit: nat,
  }),
  z.strictObject({
    type: z.literal('AppendEntriesResponse'),
    ...envelope,
    success: z.boolean(),
    index: nat,
    hintIndex: nat,
    hintTerm: nat,
  }),
  z.strictObject({
    type: z.literal('Heartbeat'),
    ...envelope,
    leaderCommit: nat,
    context: z.string().max(MAX_ID).nullable(),
  }),
  z.strictObject({
    type: z.literal('HeartbeatResponse'),
    ...envelope,
    context: z.string().max(MAX_ID).nullable(),
  }),
  z
    .strictObject({
      type: z.literal('InstallSnapshot'),
      ...envelope,
      snapshotIndex: nat,
      snapshotTerm: nat,
      size: nat,
      offset: nat,
      data: b64,
      done: z.boolean(),
    })
    .refine(
      (m) => {
        const end = m.offset + Buffer.byteLength(m.data, 'base64');
        return end <= m.size && m.done === (end === m.size);
      },
      { message: 'snapshot chunk must lie inside its size, done on the last byte' },
    ),
  z.strictObject({
    type: z.literal('InstallSnapshotResponse'),
    ...envelope,
    snapshotIndex: nat,
    offset: nat,
  }),
  z.strictObject({ type: z.literal('TimeoutNow'), ...envelope, vote: z.boolean() }),
  z.strictObject({
    type: z.literal('ReadIndex'),
    ...envelope,
    context: z.string().min(1).max(MAX_ID),
  }),
  z.strictObject({
    type: z.literal('ReadIndexResponse'),
    ...envelope,
    context: z.string().min(1).max(MAX_ID),
    index: nat,
  }),
]);

export type WireMessage = z.infer<typeof wireMessageSchema>;

export function fromWire(w: WireMessage): RaftMessage {
  switch (w.type) {
    case 'AppendEntries':
      return {
        ...w,
        entries: w.entries.map((e): LogEntry => ({ ...e, data: decodeCommand(e.data) })),
      };
    case 'InstallSnapshot':
      return { ...w, data: new Uint8Array(Buffer.from(w.data, 'base64')) };
    default:
      return w;
  }
}
