import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { ClusterAuth, HEADER_NONCE } from './cluster-auth';
import {
  FrameOpener,
  FrameSealer,
  StreamFault,
  type StreamFaultReason,
} from './cluster-stream.frames';

/**
 * One long-lived authenticated byte stream between two nodes, opened by an
 * HTTP Upgrade on the node's own server. The dialer's GET carries the usual
 * cluster signature headers bound to its own key (checked before anything
 * else, replayed nonces refused); the acceptor answers 101 with headers bound
 * to its key over the dialer's nonce, so each side knows who the other is.
 * Both derive per-direction keys from the pairwise key and both nonces, and
 * every frame after that is sequenced and tagged (cluster-stream.frames.ts).
 * A refused upgrade or a bad frame closes that connection and is counted.
 */

export const STREAM_PROTOCOL = 'uptime-cluster-stream/1';
/** a stream frame may be as large as a cluster route's body */
export const MAX_STREAM_FRAME_BYTES = 16 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);

export interface StreamStats {
  accepted: number;
  dialed: number;
  /** upgrades refused by this node (bad, missing or foreign signatures) */
  refused: number;
  /** streams this node closed over a bad frame, by reason */
  faults: Partial<Record<StreamFaultReason, number>>;
}

export interface StreamHandlers {
  /** a verified payload, in order */
  frame(payload: Buffer): void;
  close(): void;
}

const acceptPath = (path: string) => `${path}#accept`;

function sessionContext(dialer: string, acceptor: string, dn: string, an: string): string {
  return `uptime-stream/v1\n${dialer}\n${acceptor}\n${dn}\n${an}`;
}

/** An open stream: send frames, receive verified ones through the handlers. */
export class ClusterStream {
  private handlers: StreamHandlers | null = null;
  private closed = false;
  private early: Buffer[] = [];

  constructor(
    private readonly socket: Socket,
    /** the peer's node id and registered address */
    readonly peerId: string,
    readonly peerAddress: string,
    private readonly sealer: FrameSealer,
    private readonly opener: FrameOpener,
    private readonly onFault: (reason: StreamFaultReason) => void,
    head: Buffer,
  ) {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 5_000);
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('error', () => this.close());
    // The HTTP server's sockets allow half-open: a peer's FIN alone would leave ours open.
    socket.on('end', () => this.close());
    socket.on('close', () => this.close());
    if (head.length > 0) this.read(head);
  }

  get open(): boolean {
    return !this.closed;
  }

  /** Starts delivering frames (those that came before are delivered now). */
  attach(handlers: StreamHandlers): void {
    this.handlers = handlers;
    for (const p of this.early.splice(0)) if (!this.closed) handlers.frame(p);
    if (this.closed) handlers.close();
  }

  /** One frame; `done` runs once the socket took it (or the stream closed). */
  send(payload: Buffer, done: (ok: boolean) => void): void {
    if (this.closed) return done(false);
    const header = this.sealer.seal(payload);
    this.socket.cork();
    this.socket.write(header);
    this.socket.write(payload, (e) => done(!e));
    this.socket.uncork();
  }

  /** The payload broke the protocol above the frames: closed and counted like a bad frame. */
  refuse(reason: StreamFaultReason): void {
    if (this.closed) return;
    this.onFault(reason);
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.handlers?.close();
  }

  private read(chunk: Buffer): void {
    if (this.closed) return;
    try {
      this.opener.push(chunk, (p) => {
        if (this.closed) return;
        if (this.handlers) this.handlers.frame(p);
        else this.early.push(p);
      });
    } catch (e) {
      this.refuse(e instanceof StreamFault ? e.reason : 'garbage');
    }
  }
}

/** Dials and accepts authenticated streams for one node (its ClusterAuth). */
export class ClusterStreams {
  private readonly counts: StreamStats = { accepted: 0, dialed: 0, refused: 0, faults: {} };

  constructor(
    private readonly auth: ClusterAuth,
    private readonly maxFrameBytes = MAX_STREAM_FRAME_BYTES,
  ) {}

  stats(): StreamStats {
    return { ...this.counts, faults: { ...this.counts.faults } };
  }

  /** Opens a stream to `peer` (its address) on `path`; rejects unless the peer proves itself. */
  dial(peer: string, path: string, timeoutMs: number): Promise<ClusterStream> {
    const peerId = this.auth.idAt(peer);
    if (!peerId) return Promise.reject(new Error(`no key known for ${peer}`));
    const colon = peer.lastIndexOf(':');
    const host = peer.slice(0, colon).replace(/^\[|\]$/g, '');
    const headers = this.auth.sign('GET', path, EMPTY, peer);
    const dn = headers[HEADER_NONCE];
    return new Promise<ClusterStream>((resolve, reject) => {
      const req = httpRequest({
        host,
        port: Number(peer.slice(colon + 1)),
        path,
        method: 'GET',
        agent: false,
        timeout: timeoutMs,
        headers: { connection: 'Upgrade', upgrade: STREAM_PROTOCOL, ...headers },
      });
      req.on('timeout', () =>
        req.destroy(new Error(`stream to ${peer}: no answer in ${timeoutMs} ms`)),
      );
      req.on('error', reject);
      req.on('response', (res: IncomingMessage) => {
        res.resume();
        reject(new Error(`stream to ${peer} refused: HTTP ${res.statusCode}`));
      });
      req.on('upgrade', (res: IncomingMessage, socket: Socket, head: Buffer) => {
        socket.setTimeout(0);
        const v = this.auth.verify('GET', acceptPath(path), Buffer.from(dn, 'hex'), res.headers);
        const an = res.headers[HEADER_NONCE];
        if (!v.ok || !v.bound || v.nodeId !== peerId || typeof an !== 'string') {
          socket.destroy();
          return reject(
            new Error(
              `stream to ${peer}: answer not authenticated (${v.ok ? v.nodeId : v.reason})`,
            ),
          );
        }
        const keys = this.keys(peer, this.auth.nodeId, peerId, dn, an);
        if (!keys) {
          socket.destroy();
          return reject(new Error(`stream to ${peer}: no pairwise key`));
        }
        this.counts.dialed += 1;
        resolve(this.stream(socket, peerId, peer, keys.d2a, keys.a2d, head));
      });
      req.end();
    });
  }

  /**
   * An upgrade request for a stream route: authenticated before anything else;
   * refused (counted, connection closed) unless signed by a known node with its
   * own key. Returns the open stream, or null when refused.
   */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer): ClusterStream | null {
    const path = (req.url ?? '').split('?')[0];
    const upgrade = (req.headers.upgrade ?? '').toLowerCase();
    if (req.method !== 'GET' || upgrade !== STREAM_PROTOCOL)
      return this.refuse(socket, 400, 'expected GET with Upgrade: ' + STREAM_PROTOCOL);
    const h = this.auth.checkHeaders('GET', path, req.headers);
    if (!h.ok) return this.refuse(socket, 401, `cluster authentication failed: ${h.reason}`);
    if (!h.bound || !h.address)
      return this.refuse(
        socket,
        401,
        `cluster authentication failed: ${h.nodeId} did not sign with that node's own key`,
      );
    if (h.bodyLength !== 0 || head.length > 0)
      return this.refuse(socket, 400, 'an upgrade carries no body');
    const dn = req.headers[HEADER_NONCE] as string;
    const proof = this.auth.sign('GET', acceptPath(path), Buffer.from(dn, 'hex'), h.address);
    const keys = this.keys(h.address, h.nodeId, this.auth.nodeId, dn, proof[HEADER_NONCE]);
    if (!keys) return this.refuse(socket, 401, 'no pairwise key');
    const lines = [
      'HTTP/1.1 101 Switching Protocols',
      'Connection: Upgrade',
      `Upgrade: ${STREAM_PROTOCOL}`,
      ...Object.entries(proof).map(([k, v]) => `${k}: ${v}`),
    ];
    socket.write(lines.join('\r\n') + '\r\n\r\n');
    this.counts.accepted += 1;
    return this.stream(socket as Socket, h.nodeId, h.address, keys.a2d, keys.d2a, EMPTY);
  }

  private stream(
    socket: Socket,
    peerId: string,
    peerAddress: string,
    sendKey: Buffer,
    receiveKey: Buffer,
    head: Buffer,
  ): ClusterStream {
    return new ClusterStream(
      socket,
      peerId,
      peerAddress,
      new FrameSealer(sendKey, this.maxFrameBytes),
      new FrameOpener(receiveKey, this.maxFrameBytes),
      (reason) => (this.counts.faults[reason] = (this.counts.faults[reason] ?? 0) + 1),
      head,
    );
  }

  private keys(
    peer: string,
    dialer: string,
    acceptor: string,
    dn: string,
    an: string,
  ): { d2a: Buffer; a2d: Buffer } | null {
    const context = sessionContext(dialer, acceptor, dn, an);
    const d2a = this.auth.sessionKey(peer, `${context}\ndialer→acceptor`);
    const a2d = this.auth.sessionKey(peer, `${context}\nacceptor→dialer`);
    return d2a && a2d ? { d2a, a2d } : null;
  }

  private refuse(socket: Duplex, status: number, message: string): null {
    this.counts.refused += 1;
    const body = JSON.stringify({ statusCode: status, error: 'UNAUTHENTICATED', message });
    const reason = status === 401 ? 'Unauthorized' : 'Bad Request';
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    // The peer may keep sending; it gets no more of our time than the answer.
    setTimeout(() => socket.destroy(), 1_000).unref();
    return null;
  }
}
