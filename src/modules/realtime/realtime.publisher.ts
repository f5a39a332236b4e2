/**
 * What other modules call to push a real-time event: to a user's connections, to a site's
 * subscribers, to a union of both (each connection once), or to everyone. Both transports
 * (Socket.IO and plain WebSocket) get the same event; the payload type follows the event name.
 * Local to this node: every node emits what it applies itself, which is the cross-node fan-out.
 */
import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { PlainWsServer } from './plain-ws.server';
import {
  RealtimeEventMap,
  RealtimeEventName,
  RealtimeTarget,
  roomsOf,
  toPlainWsFrame,
} from './realtime-events';
import { RealtimeGateway } from './realtime.gateway';

@Injectable()
export class RealtimePublisher implements OnApplicationBootstrap {
  constructor(
    private readonly gateway: RealtimeGateway,
    private readonly plain: PlainWsServer,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as object | undefined;
    if (server) byServer.set(server, this);
  }

  toUser<K extends RealtimeEventName>(userId: string, event: K, data: RealtimeEventMap[K]): void {
    this.to({ users: [userId] }, event, data);
  }

  toSite<K extends RealtimeEventName>(siteId: string, event: K, data: RealtimeEventMap[K]): void {
    this.to({ sites: [siteId] }, event, data);
  }

  to<K extends RealtimeEventName>(
    target: RealtimeTarget,
    event: K,
    data: RealtimeEventMap[K],
  ): void {
    const rooms = roomsOf(target);
    if (rooms.length === 0) return;
    this.gateway.emit(rooms, event, data);
    this.plain.send(rooms, toPlainWsFrame(event, data));
  }

  broadcast<K extends RealtimeEventName>(event: K, data: RealtimeEventMap[K]): void {
    this.gateway.emit(null, event, data);
    this.plain.send(null, toPlainWsFrame(event, data));
  }

  /** Whether anyone is connected here at all (else events need not even be built). */
  hasListeners(): boolean {
    return this.gateway.connectionCount() > 0 || this.plain.connectionCount() > 0;
  }

  /** Open connections on this node, per transport. */
  connections(): { socketIo: number; plain: number } {
    return { socketIo: this.gateway.connectionCount(), plain: this.plain.connectionCount() };
  }

  /** Closes every real-time connection (shutdown: before the HTTP server drains). */
  disconnectAll(): void {
    this.gateway.disconnectAll();
    this.plain.disconnectAll();
  }
}

/** Publishers by the HTTP server they serve, so shutdown finds them without a DI lookup. */
const byServer = new WeakMap<object, RealtimePublisher>();

/** Shutdown helper: closes the real-time connections on this HTTP server, if it has any. */
export function closeRealtimeConnections(httpServer: object): void {
  byServer.get(httpServer)?.disconnectAll();
}
