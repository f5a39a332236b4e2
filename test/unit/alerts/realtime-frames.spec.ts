// Plain WebSocket framing and room targeting, derived from the typed event map.
import {
  REALTIME_EVENT_NAMES,
  RealtimeEventMap,
  roomsOf,
  toPlainWsFrame,
} from '@/modules/realtime/realtime-events';
import { encodeRelayEnvelope } from '@/modules/realtime/realtime-relay';

describe('plain WebSocket frames', () => {
  const alert: RealtimeEventMap['REGION_DOWN'] = {
    alertId: 'a',
    kind: 'REGION_DOWN',
    siteId: 's',
    name: 'n',
    url: 'u',
    region: 'eu',
    round: 1,
    at: '2026-11-28T00:00:00.000Z',
    tally: { up: 1, down: 1, total: 2 },
  };

  it('puts a consensus update flat, as the original frontend reads msg.url/consensus/timeStamp', () => {
    const update = {
      url: 'https://x',
      consensus: 'DOWN' as const,
      timeStamp: 5,
      siteId: 's',
      round: 2,
    };
    expect(toPlainWsFrame('consensus', update)).toEqual({ type: 'consensus', ...update });
  });

  it('wraps every other event as { type, data }', () => {
    expect(toPlainWsFrame('REGION_DOWN', alert)).toEqual({ type: 'REGION_DOWN', data: alert });
    const commit = { index: 1, term: 1, kind: 'decision', timeStamp: 1 };
    expect(toPlainWsFrame('raft-commit', commit)).toEqual({ type: 'raft-commit', data: commit });
  });

  it('names each event once', () => {
    expect(new Set(REALTIME_EVENT_NAMES).size).toBe(REALTIME_EVENT_NAMES.length);
  });

  it('targets the union of user and site rooms', () => {
    expect(roomsOf({ users: ['u1'], sites: ['s1', 's2'] })).toEqual([
      'user:u1',
      'site:s1',
      'site:s2',
    ]);
    expect(roomsOf({})).toEqual([]);
  });

  it('refuses a relay payload PostgreSQL could not carry', () => {
    expect(JSON.parse(encodeRelayEnvelope({ users: ['u'] }, 'REGION_DOWN', alert))).toEqual({
      v: 1,
      target: { users: ['u'] },
      event: 'REGION_DOWN',
      data: alert,
    });
    expect(() =>
      encodeRelayEnvelope({ users: ['u'] }, 'REGION_DOWN', { ...alert, name: 'x'.repeat(9_000) }),
    ).toThrow('too large');
  });
});
