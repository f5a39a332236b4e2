/**
 * Cross-process delivery of the few events that are decided once for the whole cluster (alerts):
 * the deciding process calls pg_notify in the transaction that records the delivery, and every
 * node LISTENing here emits the event to its own connections. So the notification goes out if
 * and only if the record commits. Best effort per node: a node whose listener is reconnecting
 * misses what was sent meanwhile (WebSocket messages are live-only, like the connections).
 */
import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Client } from 'pg';
import { AppConfig } from '@/config/app-config';
import {
  REALTIME_EVENT_NAMES,
  RealtimeEventMap,
  RealtimeEventName,
  RealtimeTarget,
} from './realtime-events';
import { RealtimePublisher } from './realtime.publisher';

/** The PostgreSQL NOTIFY channel; payloads are RelayEnvelope JSON. */
export const REALTIME_NOTIFY_CHANNEL = 'uptime_realtime';
/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. */
const MAX_PAYLOAD_BYTES = 7_900;

export interface RelayEnvelope<K extends RealtimeEventName = RealtimeEventName> {
  v: 1;
  target: RealtimeTarget;
  event: K;
  data: RealtimeEventMap[K];
}

/** The NOTIFY payload for an event; throws if it would not fit. */
export function encodeRelayEnvelope<K extends RealtimeEventName>(
  target: RealtimeTarget,
  event: K,
  data: RealtimeEventMap[K],
): string {
  const text = JSON.stringify({ v: 1, target, event, data } satisfies RelayEnvelope<K>);
  if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) {
    throw new Error(`real-time ${event} payload of ${Buffer.byteLength(text)} bytes is too large`);
  }
  return text;
}

function decodeRelayEnvelope(text: string): RelayEnvelope | null {
  try {
    const e = JSON.parse(text) as Partial<RelayEnvelope>;
    if (e.v !== 1 || typeof e.event !== 'string' || !REALTIME_EVENT_NAMES.includes(e.event)) {
      return null;
    }
    const t = e.target ?? {};
    const ids = (x: unknown) =>
      x === undefined || (Array.isArray(x) && x.every((s) => typeof s === 'string'));
    if (!ids(t.users) || !ids(t.sites) || typeof e.data !== 'object' || e.data === null)
      return null;
    return e as RelayEnvelope;
  } catch {
    return null;
  }
}

@Injectable()
export class RealtimeRelay implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger(RealtimeRelay.name);
  private client?: Client;
  private stopped = false;
  private retryTimer?: NodeJS.Timeout;
  private failures = 0;

  constructor(
    private readonly config: AppConfig,
    private readonly publisher: RealtimePublisher,
  ) {}

  /** True when this deployment relays through PostgreSQL (a shared server, not the embedded one). */
  get enabled(): boolean {
    return this.config.db.url !== undefined;
  }

  async onModuleInit(): Promise<void> {
    if (!this.enabled) return;
    // The first LISTEN is awaited so alerts consumed right after boot reach this node's clients.
    await this.connect().catch(() => this.scheduleReconnect());
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({
      connectionString: this.config.db.url,
      connectionTimeoutMillis: 5_000,
      keepAlive: true,
      application_name: 'uptime-realtime-relay',
    });
    this.client = client;
    client.on('notification', (n) => {
      if (n.channel === REALTIME_NOTIFY_CHANNEL && n.payload) this.deliver(n.payload);
    });
    client.on('error', (err) => {
      this.log.warn(`relay connection failed: ${err.message}`);
      void client.end().catch(() => undefined);
    });
    client.on('end', () => {
      if (this.client === client) this.scheduleReconnect();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${REALTIME_NOTIFY_CHANNEL}`);
    } catch (err) {
      this.log.warn(`cannot LISTEN for real-time events: ${(err as Error).message}`);
      this.client = undefined;
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.failures > 0) this.log.log('real-time relay listening again');
    this.failures = 0;
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer) return;
    this.client = undefined;
    this.failures++;
    const delay = Math.min(30_000, 500 * 2 ** Math.min(this.failures - 1, 10));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.stopped) return;
      this.connect().catch(() => this.scheduleReconnect());
    }, delay);
    this.retryTimer.unref();
  }

  private deliver(payload: string): void {
    const envelope = decodeRelayEnvelope(payload);
    if (!envelope) {
      this.log.warn('ignoring a malformed real-time notification');
      return;
    }
    this.publisher.to(envelope.target, envelope.event, envelope.data);
  }
}
