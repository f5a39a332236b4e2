/**
 * The Socket.IO gateway: a handshake without a valid user token is refused (connect_error
 * "unauthorized"); every connection joins its user's room and may join rooms of sites it owns.
 * A subscribe to anyone else's site gets an `error` event and no data.
 */
import { Logger, OnModuleDestroy } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  OnGatewayConnection,
  OnGatewayDisconnect,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';
import { bearerToken, RealtimeAccess, RealtimeIdentity, runAt } from './realtime-access';
import {
  ClientToServerEvents,
  RealtimeEventMap,
  RealtimeEventName,
  ServerToClientEvents,
  siteRoom,
  SubscribeAck,
  userRoom,
} from './realtime-events';

interface SocketData {
  user: RealtimeIdentity;
  sites: Set<string>;
  cancelExpiry?: () => void;
  release?: () => void;
}

/** How often open connections' tokens are re-checked (revocations made on other nodes). */
export const REVALIDATE_MS = 10_000;

type IoServer = Server<ClientToServerEvents, ServerToClientEvents, object, SocketData>;
type IoSocket = Socket<ClientToServerEvents, ServerToClientEvents, object, SocketData>;

@WebSocketGateway({
  // Clients authenticate with an explicit token, not cookies, so any origin may connect.
  cors: { origin: '*' },
  serveClient: false,
  // Clients only send small subscribe messages.
  maxHttpBufferSize: 16 * 1024,
})
export class RealtimeGateway
  implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, OnModuleDestroy
{
  @WebSocketServer() private server?: IoServer;
  private readonly log = new Logger(RealtimeGateway.name);
  private revalidate?: NodeJS.Timeout;
  private stopRevocations?: () => void;

  constructor(private readonly access: RealtimeAccess) {}

  afterInit(server: IoServer): void {
    server.use((socket, next) => {
      const auth = socket.handshake.auth as { token?: unknown } | undefined;
      const token = auth?.token ?? bearerToken(socket.handshake.headers.authorization);
      void this.access.identify(token).then((user) => {
        if (!user) return next(new Error('unauthorized'));
        const forIp = this.access.admitIp(socket.handshake.address);
        const forUser = forIp && this.access.admitUser(user.userId);
        if (!forIp || !forUser) {
          forIp?.();
          return next(new Error('too many connections'));
        }
        socket.data.user = user;
        socket.data.sites = new Set();
        socket.data.release = () => {
          forUser();
          forIp();
        };
        next();
      }, next);
    });
    // Revoked here: drop at once; revoked on another node: caught by the periodic re-check.
    this.stopRevocations = this.access.onRevoked((userId) =>
      server.in(userRoom(userId)).disconnectSockets(true),
    );
    this.revalidate = setInterval(() => void this.revalidateAll(), REVALIDATE_MS);
    this.revalidate.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.revalidate);
    this.stopRevocations?.();
  }

  handleConnection(socket: IoSocket): void {
    const { user } = socket.data;
    void socket.join(userRoom(user.userId));
    // Tokens may live longer than one timer can wait (2^31-1 ms); runAt re-arms.
    if (user.expiresAt !== null)
      socket.data.cancelExpiry = runAt(user.expiresAt, () => socket.disconnect(true));
  }

  handleDisconnect(socket: IoSocket): void {
    socket.data.cancelExpiry?.();
    socket.data.release?.();
    socket.data.release = undefined;
  }

  private async revalidateAll(): Promise<void> {
    if (!this.server) return;
    for (const socket of this.server.sockets.sockets.values()) {
      const user = socket.data.user as RealtimeIdentity | undefined;
      if (user && !(await this.access.stillValid(user).catch(() => true))) socket.disconnect(true);
    }
  }

  @SubscribeMessage('subscribe')
  async subscribe(
    @ConnectedSocket() socket: IoSocket,
    @MessageBody() body: unknown,
  ): Promise<SubscribeAck> {
    const check = await this.access.checkSite(socket.data.user, body, socket.data.sites.size);
    if (!check.ok) {
      socket.emit('error', check.error);
      return check;
    }
    await socket.join(siteRoom(check.siteId));
    socket.data.sites.add(check.siteId);
    socket.emit('subscribed', { siteId: check.siteId });
    return check;
  }

  @SubscribeMessage('unsubscribe')
  async unsubscribe(
    @ConnectedSocket() socket: IoSocket,
    @MessageBody() body: unknown,
  ): Promise<SubscribeAck> {
    const siteId = (body as { siteId?: unknown } | null)?.siteId;
    if (typeof siteId !== 'string' || !socket.data.sites.has(siteId)) {
      const error = { code: 'BAD_REQUEST' as const, message: 'not subscribed to this site' };
      socket.emit('error', error);
      return { ok: false, error };
    }
    await socket.leave(siteRoom(siteId));
    socket.data.sites.delete(siteId);
    socket.emit('unsubscribed', { siteId });
    return { ok: true, siteId };
  }

  /** Emits to the union of `rooms` (each socket once), or to everyone when rooms is null. */
  emit<K extends RealtimeEventName>(
    rooms: string[] | null,
    event: K,
    data: RealtimeEventMap[K],
  ): void {
    if (!this.server) return; // not initialised (the app is still booting)
    let target: { emit: unknown } = this.server;
    if (rooms !== null) {
      // Rooms without a member here are left out before socket.io encodes the packet.
      const joined = this.server.sockets.adapter.rooms;
      const live = rooms.filter((r) => joined.has(r));
      if (live.length === 0) return;
      target = this.server.to(live);
    }
    // socket.io's emit is typed per event; this generic K is one of them.
    (target.emit as (e: string, d: unknown) => boolean)(event, data);
  }

  connectionCount(): number {
    return this.server?.engine?.clientsCount ?? 0;
  }

  /** Asks every client to go (they reconnect elsewhere); used before the HTTP server drains. */
  disconnectAll(): void {
    if (!this.server) return;
    this.log.log(`closing ${this.connectionCount()} Socket.IO connection(s)`);
    this.server.disconnectSockets(true);
  }
}
