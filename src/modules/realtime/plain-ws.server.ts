/**
 * The plain WebSocket endpoint (/ws) for clients like the original design's frontend: same
 * events, same ownership rules as Socket.IO, frames `{ type, ... }` as that frontend parses them.
 * A token comes as `?token=`, an Authorization header, or the first message; without one the
 * connection is closed. Slow or dead clients are dropped, never buffered without bound.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { RawData, WebSocket, WebSocketServer } from 'ws';
import { bearerToken, RealtimeAccess, RealtimeIdentity, runAt } from './realtime-access';
import { PlainWsFrame, RealtimeErrorEvent, siteRoom, userRoom } from './realtime-events';

export const PLAIN_WS_PATH = '/ws';
/** Close codes in the application range: 4401 unauthenticated, 4408 auth timeout. */
export const WS_CLOSE_UNAUTHENTICATED = 4401;
export const WS_CLOSE_AUTH_TIMEOUT = 4408;

const AUTH_TIMEOUT_MS = 5_000;
const HEARTBEAT_MS = 30_000;
/** A client this far behind (bytes queued) is disconnected rather than buffered for. */
const MAX_BUFFERED_BYTES = 1 << 20;

interface Client {
  ws: WebSocket;
  user?: RealtimeIdentity;
  rooms: Set<string>;
  alive: boolean;
  timer?: NodeJS.Timeout;
  cancelExpiry?: () => void;
  /** frees the connection slots (IP, then user) this client holds */
  releases: (() => void)[];
}

export const WS_CLOSE_TOO_MANY = 4429;

@Injectable()
export class PlainWsServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger(PlainWsServer.name);
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: 4 * 1024,
    perMessageDeflate: false,
  });
  private readonly clients = new Map<WebSocket, Client>();
  private readonly rooms = new Map<string, Set<Client>>();
  private heartbeat?: NodeJS.Timeout;
  private httpServer?: Server;
  private stopRevocations?: () => void;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly access: RealtimeAccess,
  ) {}

  onApplicationBootstrap(): void {
    this.httpServer = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    this.httpServer?.on('upgrade', this.onUpgrade);
    this.heartbeat = setInterval(() => this.sweep(), HEARTBEAT_MS);
    this.heartbeat.unref();
    this.stopRevocations = this.access.onRevoked((userId) => {
      for (const c of this.rooms.get(userRoom(userId)) ?? [])
        c.ws.close(WS_CLOSE_UNAUTHENTICATED, 'token revoked');
    });
  }

  beforeApplicationShutdown(): void {
    this.disconnectAll();
  }

  /** Closes every connection with 1001 (going away) so clients reconnect to another node. */
  disconnectAll(): void {
    clearInterval(this.heartbeat);
    this.stopRevocations?.();
    this.httpServer?.off('upgrade', this.onUpgrade);
    if (this.clients.size > 0) this.log.log(`closing ${this.clients.size} WebSocket connection(s)`);
    for (const c of this.clients.values()) c.ws.close(1001, 'server shutting down');
    this.wss.close();
  }

  connectionCount(): number {
    return this.clients.size;
  }

  /** Sends one frame to every authenticated connection in any of `rooms` (each once), or to all. */
  send(rooms: string[] | null, frame: PlainWsFrame): void {
    const targets = new Set<Client>();
    if (rooms === null) {
      for (const c of this.clients.values()) if (c.user) targets.add(c);
    } else {
      for (const room of rooms) for (const c of this.rooms.get(room) ?? []) targets.add(c);
    }
    if (targets.size === 0) return;
    const text = JSON.stringify(frame);
    for (const c of targets) this.write(c, text);
  }

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    // Other paths belong to someone else (Socket.IO has /socket.io/).
    if (url.pathname !== PLAIN_WS_PATH) return;
    const token = url.searchParams.get('token') ?? bearerToken(req.headers.authorization);
    const forIp = this.access.admitIp(req.socket.remoteAddress ?? '?');
    if (!forIp) return refuse(socket, 429, 'Too Many Requests');
    void (async () => {
      let user: RealtimeIdentity | undefined;
      const releases = [forIp];
      if (token) {
        user = (await this.access.identify(token)) ?? undefined;
        if (!user) return refuse(socket, 401, 'Unauthorized', forIp);
        const forUser = this.access.admitUser(user.userId);
        if (!forUser) return refuse(socket, 429, 'Too Many Requests', forIp);
        releases.push(forUser);
      }
      if (socket.destroyed) return releases.forEach((r) => r());
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, user, releases));
    })().catch(() => refuse(socket, 503, 'Service Unavailable', forIp));
  };

  private onConnection(
    ws: WebSocket,
    user: RealtimeIdentity | undefined,
    releases: (() => void)[],
  ): void {
    const client: Client = { ws, rooms: new Set(), alive: true, releases };
    this.clients.set(ws, client);
    ws.on('pong', () => (client.alive = true));
    ws.on('message', (raw, isBinary) => void this.onMessage(client, raw, isBinary));
    ws.on('close', () => this.forget(client));
    ws.on('error', () => ws.terminate());
    if (user) return this.authenticate(client, user);
    client.timer = setTimeout(
      () => ws.close(WS_CLOSE_AUTH_TIMEOUT, 'send { "type": "auth", "token": ... } first'),
      AUTH_TIMEOUT_MS,
    );
    client.timer.unref();
  }

  private authenticate(client: Client, user: RealtimeIdentity): void {
    clearTimeout(client.timer);
    client.user = user;
    this.join(client, userRoom(user.userId));
    // Tokens may live longer than one timer can wait (2^31-1 ms); runAt re-arms.
    if (user.expiresAt !== null)
      client.cancelExpiry = runAt(user.expiresAt, () =>
        client.ws.close(WS_CLOSE_UNAUTHENTICATED, 'token expired'),
      );
    this.write(client, JSON.stringify({ type: 'authenticated', data: { userId: user.userId } }));
  }

  private async onMessage(client: Client, raw: RawData, isBinary: boolean): Promise<void> {
    let msg: { type?: unknown; token?: unknown; siteId?: unknown };
    try {
      if (isBinary) throw new Error('binary');
      msg = JSON.parse(rawText(raw)) as typeof msg;
      if (typeof msg !== 'object' || msg === null) throw new Error('not an object');
    } catch {
      return this.error(client, { code: 'BAD_REQUEST', message: 'expected a JSON object' });
    }
    if (!client.user) {
      const user = msg.type === 'auth' ? await this.access.identify(msg.token) : null;
      if (!user) return client.ws.close(WS_CLOSE_UNAUTHENTICATED, 'unauthorized');
      if (client.ws.readyState !== WebSocket.OPEN || client.user) return;
      const forUser = this.access.admitUser(user.userId);
      if (!forUser) return client.ws.close(WS_CLOSE_TOO_MANY, 'too many connections');
      client.releases.push(forUser);
      return this.authenticate(client, user);
    }
    switch (msg.type) {
      case 'subscribe': {
        const check = await this.access.checkSite(client.user, msg, siteCount(client));
        if (!check.ok) return this.error(client, check.error);
        if (client.ws.readyState !== WebSocket.OPEN) return;
        this.join(client, siteRoom(check.siteId));
        return this.write(client, frame('subscribed', { siteId: check.siteId }));
      }
      case 'unsubscribe': {
        const room = typeof msg.siteId === 'string' ? siteRoom(msg.siteId) : '';
        if (!client.rooms.has(room)) {
          return this.error(client, {
            code: 'BAD_REQUEST',
            message: 'not subscribed to this site',
          });
        }
        this.leave(client, room);
        return this.write(client, frame('unsubscribed', { siteId: msg.siteId as string }));
      }
      default:
        return this.error(client, {
          code: 'BAD_REQUEST',
          message: 'expected type "subscribe" or "unsubscribe"',
        });
    }
  }

  private error(client: Client, error: RealtimeErrorEvent): void {
    this.write(client, JSON.stringify({ type: 'error', data: error } satisfies PlainWsFrame));
  }

  private write(client: Client, text: string): void {
    const { ws } = client;
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.log.warn(`dropping a WebSocket client ${ws.bufferedAmount} bytes behind`);
      ws.terminate();
      return;
    }
    ws.send(text);
  }

  private join(client: Client, room: string): void {
    client.rooms.add(room);
    let members = this.rooms.get(room);
    if (!members) this.rooms.set(room, (members = new Set()));
    members.add(client);
  }

  private leave(client: Client, room: string): void {
    client.rooms.delete(room);
    const members = this.rooms.get(room);
    members?.delete(client);
    if (members?.size === 0) this.rooms.delete(room);
  }

  private forget(client: Client): void {
    clearTimeout(client.timer);
    client.cancelExpiry?.();
    for (const r of client.releases.splice(0)) r();
    for (const room of [...client.rooms]) this.leave(client, room);
    this.clients.delete(client.ws);
  }

  /** Pings everyone; a client that did not answer the previous ping is gone. */
  private sweep(): void {
    for (const c of this.clients.values()) {
      // A token revoked on another node: caught here, at the latest one heartbeat later.
      if (c.user)
        void this.access.stillValid(c.user).then(
          (ok) => ok || c.ws.close(WS_CLOSE_UNAUTHENTICATED, 'token revoked'),
          () => undefined,
        );
      if (!c.alive) {
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }
}

function frame(type: 'subscribed' | 'unsubscribed', data: { siteId: string }): string {
  return JSON.stringify({ type, data } satisfies PlainWsFrame);
}

function siteCount(client: Client): number {
  return client.rooms.size - 1; // the user's own room is always there
}

function rawText(raw: RawData): string {
  if (Buffer.isBuffer(raw)) return raw.toString('utf8');
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  return Buffer.from(raw).toString('utf8');
}

function refuse(socket: Duplex, status: number, reason: string, release?: () => void): void {
  release?.();
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${reason.length}\r\n\r\n${reason}`,
  );
}
