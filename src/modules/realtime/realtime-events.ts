/**
 * The one map from real-time event name to payload. Socket.IO's typed server, the plain
 * WebSocket framing and RealtimePublisher are all derived from it, so a name and its payload
 * cannot drift apart, and the compiler checks every framing case.
 */

export type Verdict = 'UP' | 'DOWN' | 'UNKNOWN';

/** One validator's check of one site in one round (to the owner and the site's room, coalesced: PingResultEmitter). */
export interface PingResultEvent {
  siteId: string;
  url: string;
  round: number;
  validatorId: string;
  region: string;
  up: boolean;
  latencyMs: number;
  httpStatus: number | null;
  failure: string | null;
  /** ISO 8601 */
  checkedAt: string;
}

/** A committed verdict, shaped as the original design's frontend reads it (url, consensus, timeStamp). */
export interface ConsensusUpdateEvent {
  url: string;
  consensus: Verdict;
  /** epoch ms of the decision */
  timeStamp: number;
  siteId: string;
  round: number;
  /** per-region verdicts, when known */
  regions?: Record<string, Verdict>;
  /** Raft log index of the decision */
  logIndex?: number;
}

/** A Raft log entry committed and applied on the node the client is connected to. */
export interface RaftCommitEvent {
  index: number;
  term: number;
  /** what the entry carries, e.g. "decision" */
  kind: string;
  siteId?: string;
  round?: number;
  verdict?: Verdict;
  /** epoch ms */
  timeStamp: number;
}

/** A region-specific outage of one site (or its end), from the alert service. */
export interface RegionAlertEvent {
  alertId: string;
  kind: 'REGION_DOWN' | 'REGION_RECOVERED';
  siteId: string;
  name: string;
  url: string;
  region: string;
  round: number;
  /** ISO 8601: when the verdict was reached */
  at: string;
  tally: { up: number; down: number; total: number };
}

export interface RealtimeEventMap {
  'ping-result': PingResultEvent;
  consensus: ConsensusUpdateEvent;
  'raft-commit': RaftCommitEvent;
  REGION_DOWN: RegionAlertEvent;
  REGION_RECOVERED: RegionAlertEvent;
}
export type RealtimeEventName = keyof RealtimeEventMap;

export const REALTIME_EVENT_NAMES: readonly RealtimeEventName[] = [
  'ping-result',
  'consensus',
  'raft-commit',
  'REGION_DOWN',
  'REGION_RECOVERED',
];

export type RealtimeErrorCode = 'UNAUTHENTICATED' | 'BAD_REQUEST' | 'NOT_FOUND' | 'LIMIT';

/** Sent to one connection only, in answer to something it sent. */
export interface RealtimeErrorEvent {
  code: RealtimeErrorCode;
  message: string;
  siteId?: string;
}

export interface SubscriptionEvent {
  siteId: string;
}

/** Socket.IO: server-to-client events with their payloads. */
export type ServerToClientEvents = {
  [K in RealtimeEventName]: (payload: RealtimeEventMap[K]) => void;
} & {
  error: (payload: RealtimeErrorEvent) => void;
  subscribed: (payload: SubscriptionEvent) => void;
  unsubscribed: (payload: SubscriptionEvent) => void;
};

export type SubscribeAck = { ok: true; siteId: string } | { ok: false; error: RealtimeErrorEvent };

/** Socket.IO: client-to-server messages. */
export interface ClientToServerEvents {
  subscribe: (body: { siteId: string }, ack?: (r: SubscribeAck) => void) => void;
  unsubscribe: (body: { siteId: string }, ack?: (r: SubscribeAck) => void) => void;
}

/**
 * Plain WebSocket frames. The original frontend switches on `type`: REGION_DOWN and raft-commit
 * carry `data`; anything else is read as a consensus update with url/consensus/timeStamp at the
 * top level, which is why consensus frames are flat.
 */
export type PlainWsFrame =
  | ({ type: 'consensus' } & ConsensusUpdateEvent)
  | { type: 'ping-result'; data: PingResultEvent }
  | { type: 'raft-commit'; data: RaftCommitEvent }
  | { type: 'REGION_DOWN'; data: RegionAlertEvent }
  | { type: 'REGION_RECOVERED'; data: RegionAlertEvent }
  | { type: 'error'; data: RealtimeErrorEvent }
  | { type: 'subscribed' | 'unsubscribed' | 'authenticated'; data: SubscriptionEvent | object };

export function toPlainWsFrame<K extends RealtimeEventName>(
  event: K,
  data: RealtimeEventMap[K],
): PlainWsFrame {
  // The casts are sound: each case narrows K to one name, whose payload type `data` has.
  const e: RealtimeEventName = event;
  switch (e) {
    case 'consensus':
      return { type: 'consensus', ...(data as ConsensusUpdateEvent) };
    case 'ping-result':
      return { type: 'ping-result', data: data as PingResultEvent };
    case 'raft-commit':
      return { type: 'raft-commit', data: data as RaftCommitEvent };
    case 'REGION_DOWN':
      return { type: 'REGION_DOWN', data: data as RegionAlertEvent };
    case 'REGION_RECOVERED':
      return { type: 'REGION_RECOVERED', data: data as RegionAlertEvent };
  }
}

/** Who receives an event: the union of these users' and sites' rooms, each connection once. */
export interface RealtimeTarget {
  users?: readonly string[];
  sites?: readonly string[];
}

export const userRoom = (userId: string): string => `user:${userId}`;
export const siteRoom = (siteId: string): string => `site:${siteId}`;

export function roomsOf(target: RealtimeTarget): string[] {
  return [...(target.users ?? []).map(userRoom), ...(target.sites ?? []).map(siteRoom)];
}
