import { Logger } from '@nestjs/common';
import type { RaftMessage } from '@/core/raft/raft.messages';
import { entrySize } from '@/core/raft/raft.types';
import { ClusterClient } from '@/infra/cluster/cluster-client';
import {
  type ClusterStream,
  type ClusterStreams,
  MAX_STREAM_FRAME_BYTES,
} from '@/infra/cluster/cluster-stream';
import { decodeFrame, encodeFrame, FrameError } from './raft-frame';
import type { WriteTrace } from './raft-trace';
import { type LinkStats, PeerStreamLink } from './raft-stream.link';

/**
 * Fire-and-forget delivery of Raft messages to each peer. The hot path is one
 * long-lived authenticated stream per peer (raft-stream.link.ts): everything
 * queued for a peer in one event-loop turn, or while the previous frame was
 * being written, leaves as one tagged frame, election messages first (and
 * without waiting for the turn's end). Without an open stream (dialing, the peer
 * refuses upgrades) and for snapshot chunks, messages travel as before: one
 * signed binary frame per POST /api/raft/batch over keep-alive connections,
 * answered with what this node has for the sender within a short window.
 * Raft tolerates loss and reordering, so a slow or dead follower only loses
 * its own messages (bounded queue); it never stalls the others.
 */

export const BATCH_PATH = '/api/raft/batch';
export const REPLY_PATH = `${BATCH_PATH}#reply`;
const MAX_QUEUE = 4_096;
/** requests in flight per peer: some waiting for their answers while the next batch forms */
const MAX_INFLIGHT = 4;
/**
 * Election and handover messages never wait behind replication: each leaves at
 * once in its own frame (or in an open answer), up to this many more requests.
 */
const MAX_URGENT_INFLIGHT = 2;
const URGENT: ReadonlySet<RaftMessage['type']> = new Set([
  'TimeoutNow',
  'RequestVote',
  'RequestVoteResponse',
  'PreVote',
  'PreVoteResponse',
]);

/** how long an incoming frame's response waits for messages to carry back */
const REPLY_WINDOW_MS = 25;
const MAX_FRAME_BYTES = 8 * 1024 * 1024;

export interface TransportTimeouts {
  messageMs: number;
  snapshotMs: number;
}

export interface PeerTransportStats {
  /** messages dropped from a full queue */
  dropped: number;
  /** requests that failed (unreachable peer, timeout, refusal) */
  failed: number;
  batches: number;
  messages: number;
  /** messages that went back in the response to the peer's own frame */
  replied: number;
  /** frames and messages sent on the stream */
  streamFrames: number;
  streamMessages: number;
  stream?: LinkStats;
}

export type ReplyHandler = (peer: string, messages: RaftMessage[]) => void;
/** A frame the peer sent on our dialed stream. */
type StreamFrameHandler = (payload: Buffer, stream: ClusterStream) => void;

interface ReplySlot {
  resolve(messages: RaftMessage[]): void;
  timer: NodeJS.Timeout;
}

function approxBytes(m: RaftMessage): number {
  if (m.type === 'AppendEntries') return m.entries.reduce((n, e) => n + entrySize(e), 64);
  if (m.type === 'InstallSnapshot') return 64 + m.data.byteLength;
  return 64;
}

function traceSent(trace: WriteTrace, batch: readonly RaftMessage[]): void {
  for (const m of batch) {
    if (m.type === 'AppendEntries' && m.entries.length > 0)
      trace.stamp('sent', m.entries[m.entries.length - 1].index);
    else if (m.type === 'AppendEntriesResponse' && m.success) trace.stamp('acked', m.index);
  }
}

class PeerChannel {
  private queue: RaftMessage[] = [];
  /** for the stream: election messages, then the rest */
  private urgent: RaftMessage[] = [];
  private ordinary: RaftMessage[] = [];
  private streamScheduled = false;
  private streamUrgent = false;
  private readonly link: PeerStreamLink | null;
  private inflight = 0;
  private urgentInflight = 0;
  private scheduled = false;
  private readonly slots: ReplySlot[] = [];
  readonly stats: PeerTransportStats = {
    dropped: 0,
    failed: 0,
    batches: 0,
    messages: 0,
    replied: 0,
    streamFrames: 0,
    streamMessages: 0,
  };

  constructor(
    private readonly peer: string,
    private readonly client: ClusterClient,
    private readonly timeouts: TransportTimeouts,
    private readonly log: Logger,
    private readonly onReply: ReplyHandler,
    streams: ClusterStreams | undefined,
    onStreamFrame: StreamFrameHandler,
    private readonly trace?: WriteTrace,
  ) {
    this.link = streams
      ? new PeerStreamLink(peer, streams, timeouts.messageMs, onStreamFrame, () =>
          this.scheduleStream(),
        )
      : null;
  }

  /** The peer's frame is being answered: what we send it meanwhile goes in that answer. */
  openReply(): Promise<RaftMessage[]> {
    // Our messages to it take the stream: answer at once instead of holding the request.
    if (this.link?.ready) return Promise.resolve([]);
    return new Promise<RaftMessage[]>((resolve) => {
      const slot: ReplySlot = {
        resolve,
        timer: setTimeout(() => {
          const i = this.slots.indexOf(slot);
          if (i >= 0) this.slots.splice(i, 1);
          resolve([]);
        }, REPLY_WINDOW_MS),
      };
      this.slots.push(slot);
      if (this.queue.length > 0) this.schedule();
    });
  }

  push(m: RaftMessage): void {
    if (this.link && m.type !== 'InstallSnapshot') {
      this.link.ensure();
      if (this.link.ready) return this.pushStream(m);
    }
    this.pushHttp(m);
  }

  close(): void {
    this.link?.close();
  }

  statsNow(): PeerTransportStats {
    return { ...this.stats, ...(this.link ? { stream: { ...this.link.stats } } : {}) };
  }

  private pushStream(m: RaftMessage): void {
    const q = URGENT.has(m.type) ? this.urgent : this.ordinary;
    if (this.urgent.length + this.ordinary.length >= MAX_QUEUE) {
      (this.ordinary.length > 0 ? this.ordinary : this.urgent).shift();
      this.stats.dropped += 1;
    }
    q.push(m);
    this.scheduleStream(q === this.urgent);
  }

  /**
   * The messages of one event-loop turn share a frame (one write on the socket): they
   * leave once the turn's I/O callbacks ran (every ack that arrived, every Ready they
   * caused). Election messages do not wait for the turn: after the current job.
   */
  private scheduleStream(urgent = false): void {
    if (urgent && !this.streamUrgent) {
      this.streamUrgent = true;
      queueMicrotask(() => {
        this.streamUrgent = false;
        this.flushStream();
      });
    }
    if (this.streamScheduled) return;
    this.streamScheduled = true;
    setImmediate(() => {
      this.streamScheduled = false;
      this.flushStream();
    });
  }

  /** Everything queued as one frame, unless a frame is still being written (then after it). */
  private flushStream(): void {
    if (this.urgent.length + this.ordinary.length === 0) return;
    const link = this.link!;
    if (!link.ready) {
      // The stream closed under them: they take the request path.
      const waiting = [...this.urgent, ...this.ordinary];
      this.urgent = [];
      this.ordinary = [];
      for (const m of waiting) this.pushHttp(m);
      return;
    }
    if (link.writing) return;
    const batch = this.takeStream();
    let frame: Buffer;
    try {
      frame = encodeFrame(batch);
      if (frame.length > MAX_STREAM_FRAME_BYTES) throw new RangeError('frame too large');
    } catch (e) {
      this.stats.failed += 1;
      this.log.error(`cannot encode a frame for ${this.peer}: ${(e as Error).message}`);
      return;
    }
    this.stats.streamFrames += 1;
    this.stats.streamMessages += batch.length;
    if (this.trace?.on) traceSent(this.trace, batch);
    link.send(frame, (ok) => {
      if (!ok) this.stats.failed += 1;
      if (this.urgent.length + this.ordinary.length > 0) this.flushStream();
    });
  }

  /** Election messages first, then the longest prefix of the rest that fits one frame. */
  private takeStream(): RaftMessage[] {
    const batch = this.urgent;
    this.urgent = [];
    let bytes = batch.length * 64;
    let n = 0;
    while (n < this.ordinary.length) {
      const b = approxBytes(this.ordinary[n]);
      if (batch.length + n > 0 && bytes + b > MAX_FRAME_BYTES) break;
      bytes += b;
      n++;
    }
    for (const m of this.ordinary.splice(0, n)) batch.push(m);
    return batch;
  }

  private pushHttp(m: RaftMessage): void {
    if (URGENT.has(m.type) && this.urgentInflight < MAX_URGENT_INFLIGHT) {
      const slot = this.slots.shift();
      if (slot) {
        clearTimeout(slot.timer);
        this.stats.replied += 1;
        slot.resolve([m]);
      } else {
        this.urgentInflight += 1;
        this.send([m], false, () => (this.urgentInflight -= 1));
      }
      return;
    }
    if (this.queue.length >= MAX_QUEUE) {
      this.queue.shift();
      this.stats.dropped += 1;
    }
    this.queue.push(m);
    this.schedule();
  }

  /** Flush after the current turn: every message of one Ready loop shares a frame. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const slot = this.slots.shift();
    if (slot && this.queue.length > 0) {
      clearTimeout(slot.timer);
      const batch = this.take();
      this.stats.replied += batch.length;
      if (this.trace?.on) traceSent(this.trace, batch);
      slot.resolve(batch);
      if (this.queue.length > 0) this.schedule();
      return;
    }
    if (slot) this.slots.unshift(slot);
    this.pump();
  }

  /** The longest prefix of the queue that fits one frame. */
  private take(): RaftMessage[] {
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length) {
      const b = approxBytes(this.queue[n]);
      if (n > 0 && bytes + b > MAX_FRAME_BYTES) break;
      bytes += b;
      n++;
    }
    return this.queue.splice(0, n);
  }

  private pump(): void {
    while (this.inflight < MAX_INFLIGHT && this.queue.length > 0) {
      const batch = this.take();
      this.inflight += 1;
      this.send(
        batch,
        batch.some((m) => m.type === 'InstallSnapshot'),
        () => {
          this.inflight -= 1;
          this.pump();
        },
      );
    }
  }

  /** One frame as one request; `done` runs once it is answered or failed. */
  private send(batch: RaftMessage[], snapshot: boolean, done: () => void): void {
    let frame: Buffer;
    try {
      frame = encodeFrame(batch);
    } catch (e) {
      this.stats.failed += 1;
      this.log.error(`cannot encode a frame for ${this.peer}: ${(e as Error).message}`);
      done();
      return;
    }
    this.stats.batches += 1;
    this.stats.messages += batch.length;
    if (this.trace?.on) traceSent(this.trace, batch);
    const timeout = snapshot ? this.timeouts.snapshotMs : this.timeouts.messageMs;
    this.client
      .postBytes(this.peer, BATCH_PATH, frame, timeout, REPLY_PATH)
      .then(({ status, reply }) => {
        if (status >= 300) {
          this.stats.failed += 1;
          if (this.stats.failed <= 20 || this.stats.failed % 1000 === 0)
            this.log.warn(`${batch.length} messages to ${this.peer}: HTTP ${status}`);
          return;
        }
        this.link?.peerAnswered();
        if (reply) this.onReply(this.peer, decodeFrame(reply));
      })
      .catch((e: unknown) => {
        // Unreachable peer: Raft retries by itself (heartbeats, probes). A bad reply is counted.
        this.stats.failed += 1;
        if (e instanceof FrameError || /not authenticated|signed by/.test((e as Error).message))
          this.log.warn(`reply from ${this.peer} refused: ${(e as Error).message}`);
      })
      .finally(done);
  }
}

export class RaftTransport {
  private readonly peers = new Map<string, PeerChannel>();
  private readonly log = new Logger('RaftTransport');

  constructor(
    private readonly client: ClusterClient,
    private readonly timeouts: TransportTimeouts,
    private readonly onReply: ReplyHandler,
    private readonly trace?: WriteTrace,
    /** without it, every message takes the request path */
    private readonly streams?: ClusterStreams,
  ) {}

  send(m: RaftMessage): void {
    this.channel(m.to).push(m);
  }

  /**
   * Answers `peer`'s frame: the messages this node sends it within the reply
   * window, as a frame and the headers that authenticate it (empty if none).
   */
  async replyTo(peer: string): Promise<{ body: Buffer; headers: Record<string, string> }> {
    const messages = await this.channel(peer).openReply();
    if (messages.length === 0) return { body: Buffer.alloc(0), headers: {} };
    const body = encodeFrame(messages);
    return { body, headers: this.client.signReply(peer, REPLY_PATH, body) };
  }

  private channel(peer: string): PeerChannel {
    let q = this.peers.get(peer);
    if (!q) {
      q = new PeerChannel(
        peer,
        this.client,
        this.timeouts,
        this.log,
        this.onReply,
        this.streams,
        (payload, stream) => this.streamReply(peer, payload, stream),
        this.trace,
      );
      this.peers.set(peer, q);
    }
    return q;
  }

  stats(): Record<string, PeerTransportStats> {
    const out: Record<string, PeerTransportStats> = {};
    for (const [peer, q] of this.peers) out[peer] = q.statsNow();
    return out;
  }

  /** Closes every dialed stream (shutdown); messages sent afterwards take requests. */
  close(): void {
    for (const q of this.peers.values()) q.close();
  }

  /** A frame the peer sent back on our stream: decoded and handed on like a reply. */
  private streamReply(peer: string, payload: Buffer, stream: ClusterStream): void {
    let messages: RaftMessage[];
    try {
      messages = decodeFrame(payload);
    } catch {
      stream.refuse('garbage');
      return;
    }
    this.onReply(peer, messages);
  }
}
