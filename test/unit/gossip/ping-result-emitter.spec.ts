import { PingResultEmitter, type PingObservation } from '@/modules/realtime/ping-result.emitter';
import type { RealtimeTarget } from '@/modules/realtime/realtime-events';
import type { RealtimePublisher } from '@/modules/realtime/realtime.publisher';

/**
 * ping-result coalescing (issue 16): per (site, validator) the latest result of a window,
 * at most maxPerOwner per owner per window, nothing for sites whose owner is unknown.
 */
function setup(maxPerOwner = 3, listeners = 1) {
  const sent: { target: RealtimeTarget; siteId: string; round: number; validatorId: string }[] = [];
  const publisher = {
    hasListeners: () => listeners > 0,
    to: (target: RealtimeTarget, _e: string, data: PingObservation) =>
      sent.push({ target, siteId: data.siteId, round: data.round, validatorId: data.validatorId }),
  } as unknown as RealtimePublisher;
  const emitter = new PingResultEmitter(publisher, { windowMs: 1_000, maxPerOwner, maxSites: 100 });
  const obs = (siteId: string, round: number, validatorId = 'v1'): PingObservation => ({
    siteId,
    round,
    validatorId,
    region: 'eu',
    up: true,
    latencyMs: 5,
    httpStatus: 200,
    checkedAt: 1_700_000_000_000,
  });
  return { emitter, sent, obs };
}

describe('PingResultEmitter', () => {
  it("sends the latest result per site and validator to the owner's and the site's rooms", () => {
    const { emitter, sent, obs } = setup(10);
    emitter.learnSite('s1', 'https://a.test/', 'alice');
    emitter.offer(obs('s1', 1));
    emitter.offer(obs('s1', 2));
    emitter.offer(obs('s1', 1)); // late, older: ignored
    emitter.offer(obs('s1', 2, 'v2'));
    emitter.flush();
    expect(sent).toEqual([
      { target: { users: ['alice'], sites: ['s1'] }, siteId: 's1', round: 2, validatorId: 'v1' },
      { target: { users: ['alice'], sites: ['s1'] }, siteId: 's1', round: 2, validatorId: 'v2' },
    ]);
    expect(emitter.stats()).toMatchObject({ offered: 4, emitted: 2, coalesced: 1, pending: 0 });
  });

  it('caps each owner per window; the rest waits (newest kept) and others are not held back', () => {
    const { emitter, sent, obs } = setup(3);
    for (let i = 0; i < 10; i++) emitter.learnSite(`a${i}`, 'https://a.test/', 'alice');
    emitter.learnSite('b0', 'https://b.test/', 'bob');
    for (let i = 0; i < 10; i++) emitter.offer(obs(`a${i}`, 1));
    emitter.offer(obs('b0', 1));
    emitter.flush();
    expect(sent.filter((s) => s.target.users![0] === 'alice')).toHaveLength(3);
    expect(sent.filter((s) => s.target.users![0] === 'bob')).toHaveLength(1);
    emitter.offer(obs('a9', 2)); // a newer result for one still waiting
    sent.length = 0;
    emitter.flush();
    expect(sent.map((s) => `${s.siteId}@${s.round}`)).toEqual(['a3@1', 'a4@1', 'a5@1']);
    emitter.flush();
    emitter.flush();
    expect(sent.map((s) => `${s.siteId}@${s.round}`).slice(3)).toEqual([
      'a6@1',
      'a7@1',
      'a8@1',
      'a9@2',
    ]);
    expect(emitter.stats().pending).toBe(0);
  });

  it('sends nothing for a site whose owner it has not learnt, and keeps nothing without listeners', () => {
    const a = setup();
    a.emitter.offer(a.obs('x', 1));
    a.emitter.flush();
    expect(a.sent).toEqual([]);
    expect(a.emitter.stats().unknownSite).toBe(1);
    const b = setup(3, 0);
    b.emitter.learnSite('s', 'https://s.test/', 'alice');
    b.emitter.offer(b.obs('s', 1));
    b.emitter.flush();
    expect(b.sent).toEqual([]);
    expect(b.emitter.stats().pending).toBe(0);
  });
});
