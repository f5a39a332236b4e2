import type { ClusterStream, ClusterStreams } from '@/infra/cluster/cluster-stream';

/**
 * This node's dialed stream to one peer (GET /api/raft/stream, cluster-stream.ts):
 * opened on demand when there is something to send, redialed with backoff after
 * it closes or a dial fails, and closed when a write hangs longer than the
 * message timeout (a peer that stopped reading). No timers: Raft's own
 * heartbeats bring the next send, which redials once the backoff has passed.
 */

export const STREAM_PATH = '/api/raft/stream';
const MIN_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 2_000;

export interface LinkStats {
  dials: number;
  opens: number;
  closes: number;
}

export class PeerStreamLink {
  private stream: ClusterStream | null = null;
  private dialing = false;
  private closed = false;
  private nextDialAt = 0;
  private backoffMs = MIN_BACKOFF_MS;
  /** when the frame being written started, or null */
  private writeSince: number | null = null;
  readonly stats: LinkStats = { dials: 0, opens: 0, closes: 0 };

  constructor(
    private readonly peer: string,
    private readonly streams: ClusterStreams,
    private readonly timeoutMs: number,
    /** frames the peer sends back on this stream */
    private readonly onFrame: (payload: Buffer, stream: ClusterStream) => void,
    /** the stream opened or closed */
    private readonly onChange: () => void,
  ) {}

  get ready(): boolean {
    return this.stream !== null && this.stream.open;
  }

  get writing(): boolean {
    return this.writeSince !== null;
  }

  /** Dials if there is no stream, none is being dialed and the backoff has passed. */
  ensure(): void {
    const now = performance.now();
    if (this.stream && this.writeSince !== null && now - this.writeSince > this.timeoutMs)
      this.stream.close(); // its close handler clears it
    if (this.closed || this.ready || this.dialing || now < this.nextDialAt) return;
    this.dialing = true;
    this.stats.dials += 1;
    this.streams.dial(this.peer, STREAM_PATH, Math.min(this.timeoutMs, 5_000)).then(
      (stream) => {
        this.dialing = false;
        if (this.closed) return stream.close();
        this.stream = stream;
        this.backoffMs = MIN_BACKOFF_MS;
        this.stats.opens += 1;
        stream.attach({
          frame: (p) => this.onFrame(p, stream),
          close: () => this.lost(stream),
        });
        this.onChange();
      },
      () => {
        this.dialing = false;
        this.backOff();
      },
    );
  }

  /** One frame on the open stream; `done(ok)` once the socket took it. */
  send(frame: Buffer, done: (ok: boolean) => void): void {
    const stream = this.stream;
    if (!stream || !stream.open) return done(false);
    this.writeSince = performance.now();
    stream.send(frame, (ok) => {
      if (this.stream === stream) this.writeSince = null;
      done(ok);
    });
  }

  /** The peer answered a request: it is up, so the next send dials without waiting out the backoff. */
  peerAnswered(): void {
    if (this.ready || this.dialing) return;
    this.nextDialAt = 0;
    this.backoffMs = MIN_BACKOFF_MS;
  }

  close(): void {
    this.closed = true;
    this.stream?.close();
  }

  private lost(stream: ClusterStream): void {
    if (this.stream !== stream) return;
    this.stream = null;
    this.writeSince = null;
    this.stats.closes += 1;
    this.backOff();
    this.onChange();
  }

  private backOff(): void {
    this.nextDialAt = performance.now() + this.backoffMs * (0.5 + Math.random() / 2);
    this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
  }
}
