import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { DomainError } from '@/common/domain-error';
import type { ClusterStream, ClusterStreams } from '@/infra/cluster/cluster-stream';
import { decodeFrame } from './raft-frame';
import type { RaftHost } from './raft-host';
import { STREAM_PATH } from './raft-stream.link';

/**
 * The accepting side of the peers' Raft streams (GET /api/raft/stream with
 * HTTP Upgrade). Upgrades for that path are taken before the server's other
 * 'upgrade' listeners (Socket.IO, the plain WebSocket) see them, so theirs keep
 * their paths and never touch ours. A stream is authenticated by
 * ClusterStreams.accept before anything is read from it; each verified frame
 * is decoded and checked whole by RaftHost.receiveBatch (sent by the stream's
 * own node, for this node) before any message is stepped. A frame that does not
 * decode, or speaks for another node, closes the stream and is counted.
 */

type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

function isStreamRoute(req: IncomingMessage): boolean {
  return (req.url ?? '').split('?')[0] === STREAM_PATH;
}

const byServer = new WeakMap<object, RaftStreamHandler>();

/** Shutdown helper: closes the peers' Raft streams accepted on this server, if any. */
export function closeRaftStreams(httpServer: object): void {
  byServer.get(httpServer)?.closeAll();
}

export class RaftStreamHandler {
  private readonly open = new Set<ClusterStream>();

  constructor(
    private readonly host: RaftHost,
    private readonly streams: ClusterStreams,
  ) {}

  mount(server: Server): void {
    byServer.set(server, this);
    // Node hands upgrades to 'upgrade' listeners only when there is one.
    const listener: UpgradeListener = (req, socket, head) => {
      if (isStreamRoute(req)) this.upgrade(req, socket, head);
    };
    server.on('upgrade', listener);
    // Ours are taken out of the event before any listener runs (theirs would see them too).
    const emit = server.emit.bind(server) as (
      event: string | symbol,
      ...args: unknown[]
    ) => boolean;
    server.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
      if (event === 'upgrade' && isStreamRoute(args[0] as IncomingMessage)) {
        listener(args[0] as IncomingMessage, args[1] as Duplex, args[2] as Buffer);
        return true;
      }
      return emit(event, ...args);
    }) as Server['emit'];
  }

  closeAll(): void {
    for (const s of [...this.open]) s.close();
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const stream = this.streams.accept(req, socket, head);
    if (!stream) return;
    this.open.add(stream);
    stream.attach({
      frame: (payload) => this.frame(stream, payload),
      close: () => this.open.delete(stream),
    });
  }

  private frame(stream: ClusterStream, payload: Buffer): void {
    let messages;
    try {
      messages = decodeFrame(payload);
    } catch {
      this.host.countBadFrame();
      return stream.refuse('garbage');
    }
    try {
      this.host.receiveBatch(messages, stream.peerAddress);
    } catch (e) {
      // Not running or a full disk drops the frame (Raft retries); a refusal is the peer's fault.
      if (!(e instanceof DomainError) || e.code !== 'UNAVAILABLE') stream.refuse('garbage');
    }
  }
}
