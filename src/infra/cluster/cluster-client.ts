import { Pool } from 'undici';
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
    if (this.closed) throw new Error('cluster client closed');
    const body = Buffer.from(JSON.stringify(payload));
    const headers = {
      'content-type': 'application/json',
      ...this.auth.sign('POST', path, body),
    };
    const res = await this.pool(peer).request({
      method: 'POST',
      path,
      body,
      headers,
      signal: AbortSignal.timeout(timeoutMs),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
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
        connections: this.options.connectionsPerPeer ?? 4,
        connectTimeout: Math.min(this.options.timeoutMs, 5_000),
        keepAliveTimeout: 10_000,
      });
      this.pools.set(peer, p);
    }
    return p;
  }
}
