import { Dispatcher, Pool } from 'undici';
import { ClusterAuth } from './cluster-auth';

export interface ClusterResponse<T> {
  status: number;
  body: T;
}

export interface ClusterClientOptions {
  /** per request, connect included */
  timeoutMs: number;
  /** sockets per peer: one slow request never blocks the others to that peer */
  connectionsPerPeer?: number;
}

/**
 * Signed JSON POSTs to other nodes. One bounded connection pool per peer and a
 * hard timeout per request, so a slow or dead peer costs its own requests only.
 */
export class ClusterClient {
  private readonly pools = new Map<string, Pool>();
  private closed = false;

  constructor(
    private readonly auth: ClusterAuth,
    private readonly options: ClusterClientOptions,
  ) {}

  async post<T>(
    peer: string,
    path: string,
    payload: unknown,
    timeoutMs = this.options.timeoutMs,
  ): Promise<ClusterResponse<T>> {
    const body = Buffer.from(JSON.stringify(payload));
    const res = await this.signedPost(peer, path, body, 'application/json', timeoutMs);
    const text = await res.body.text();
    let parsed: unknown = null;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { raw: text.slice(0, 200) };
      }
    }
    return { status: res.statusCode, body: parsed as T };
  }

  /**
   * A signed POST of raw bytes (application/octet-stream) over the peer's
   * keep-alive pool. A non-empty answer must be signed by that very peer for
   * `replyPath` (signReply): it is returned only once its signature, binding
   * and digest check out, else the call fails.
   */
  async postBytes(
    peer: string,
    path: string,
    body: Buffer,
    timeoutMs = this.options.timeoutMs,
    replyPath = `${path}#reply`,
  ): Promise<{ status: number; reply: Buffer | null }> {
    // No AbortSignal (a timer per request): the transport keeps fewer requests in flight
    // per peer than the pool has sockets, so none waits for one, and once sent the
    // headers and body timeouts bound it.
    const res = await this.signedPost(
      peer,
      path,
      body,
      'application/octet-stream',
      timeoutMs,
      false,
    );
    const reply = Buffer.from(await res.body.arrayBuffer());
    if (res.statusCode >= 300 || reply.length === 0) return { status: res.statusCode, reply: null };
    const v = this.auth.verify('POST', replyPath, reply, res.headers);
    if (!v.ok) throw new Error(`reply from ${peer} not authenticated: ${v.reason}`);
    if (!v.bound || v.address !== peer)
      throw new Error(`reply from ${peer} is signed by ${v.nodeId}, not by that node`);
    return { status: res.statusCode, reply };
  }

  /**
   * One POST of `body`, signed for `peer`, over its keep-alive pool, bounded by
   * `timeoutMs` from the moment it is sent (connect, headers, body); with
   * `whole`, also while it waits for a free socket.
   */
  private signedPost(
    peer: string,
    path: string,
    body: Buffer,
    contentType: string,
    timeoutMs: number,
    whole = true,
  ): Promise<Dispatcher.ResponseData> {
    if (this.closed) throw new Error('cluster client closed');
    return this.pool(peer).request({
      method: 'POST',
      path,
      body,
      headers: { 'content-type': contentType, ...this.auth.sign('POST', path, body, peer) },
      ...(whole ? { signal: AbortSignal.timeout(timeoutMs) } : {}),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  }

  /** Headers that authenticate `body` as this node's answer to `peer` (see postBytes). */
  signReply(peer: string, replyPath: string, body: Buffer): Record<string, string> {
    return this.auth.sign('POST', replyPath, body, peer);
  }

  async close(): Promise<void> {
    this.closed = true;
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(pools.map((p) => p.destroy()));
  }

  private pool(peer: string): Pool {
    let p = this.pools.get(peer);
    if (!p) {
      const host =
        peer.includes(':') && peer.split(':').length > 2 && !peer.startsWith('[')
          ? `[${peer}]`
          : peer;
      p = new Pool(`http://${host}`, {
        // the Raft transport's window (4), its election messages (2), and the rest (gossip)
        connections: this.options.connectionsPerPeer ?? 8,
        connectTimeout: Math.min(this.options.timeoutMs, 5_000),
        keepAliveTimeout: 10_000,
      });
      this.pools.set(peer, p);
    }
    return p;
  }
}
