// The Socket.IO connection of the signed-in user: the owner room gets `consensus` for every
// site; `ping-result` needs a subscription per site (at most MAX_SUBSCRIBED at once here,
// the server allows 500). Subscriptions are restored after a reconnect.
import { io, type Socket } from 'socket.io-client';
import { createStore } from './store';
import type { ConsensusEvent, PingResultEvent } from './types';

export type LiveState = 'offline' | 'connecting' | 'live';
export const liveState = createStore<LiveState>('offline');

const MAX_SUBSCRIBED = 200;

interface Events {
  consensus: ConsensusEvent;
  'ping-result': PingResultEvent;
  reconnected: undefined;
}
type Handler<K extends keyof Events> = (payload: Events[K]) => void;

let socket: Socket | null = null;
let everConnected = false;
const handlers: { [K in keyof Events]: Set<Handler<K>> } = {
  consensus: new Set(),
  'ping-result': new Set(),
  reconnected: new Set(),
};
/** site id → how many views want its ping results */
const wanted = new Map<string, number>();

export function connectLive(token: string): void {
  if (socket) return;
  liveState.set('connecting');
  everConnected = false;
  const s = io({ auth: { token }, transports: ['websocket', 'polling'], tryAllTransports: true });
  socket = s;
  s.on('connect', () => {
    liveState.set('live');
    for (const id of wanted.keys()) s.emit('subscribe', { siteId: id });
    if (everConnected) for (const h of handlers.reconnected) h(undefined);
    everConnected = true;
  });
  s.on('disconnect', () => liveState.set('connecting'));
  s.on('connect_error', () => liveState.set('connecting'));
  s.on('consensus', (e: ConsensusEvent) => {
    for (const h of handlers.consensus) h(e);
  });
  s.on('ping-result', (e: PingResultEvent) => {
    for (const h of handlers['ping-result']) h(e);
  });
}

export function disconnectLive(): void {
  socket?.disconnect();
  socket = null;
  wanted.clear();
  liveState.set('offline');
}

export function onLive<K extends keyof Events>(event: K, handler: Handler<K>): () => void {
  const set = handlers[event] as Set<Handler<K>>;
  set.add(handler);
  return () => set.delete(handler);
}

/** Ask for ping results of these sites; returns the function that gives them back. */
export function watchSites(ids: readonly string[]): () => void {
  const added: string[] = [];
  for (const id of ids) {
    const n = wanted.get(id) ?? 0;
    if (n === 0 && wanted.size >= MAX_SUBSCRIBED) continue;
    wanted.set(id, n + 1);
    added.push(id);
    if (n === 0) socket?.emit('subscribe', { siteId: id });
  }
  return () => {
    for (const id of added) {
      const n = (wanted.get(id) ?? 1) - 1;
      if (n > 0) wanted.set(id, n);
      else {
        wanted.delete(id);
        socket?.emit('unsubscribe', { siteId: id });
      }
    }
  };
}
