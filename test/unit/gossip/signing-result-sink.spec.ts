import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModuleRef } from '@nestjs/core';
import type { Vote } from '@/core/consensus/vote';
import type { CheckResultSink } from '@/modules/ping/check-result-sink';
import type { CheckResult } from '@/modules/ping/check-result';
import type { GossipService } from '@/modules/gossip/gossip.service';
import { RegistryVoteVerifier } from '@/modules/gossip/registry-vote-verifier';
import { SigningResultSink } from '@/modules/gossip/signing-result.sink';
import type { PingResultEmitter } from '@/modules/realtime/ping-result.emitter';
import { ValidatorIdentity } from '@/modules/gossip/validator-identity';
import { spec } from '../ping/support/recording';

/** Each check result becomes a signed vote for gossip and still a health log. */
describe('SigningResultSink', () => {
  let dir: string;
  let identity: ValidatorIdentity;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sink-'));
    identity = ValidatorIdentity.loadOrCreate(dir, { id: 'v1', region: 'eu', address: 'a:1' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function setup(publish: (v: Vote) => void = () => undefined) {
    const published: Vote[] = [];
    const logged: [string, number][] = [];
    const own: Parameters<GossipService['publishOwn']>[0][] = [];
    const gossip = {
      publishOwn: (v: (typeof own)[number]) => {
        publish(identity.signBatch([v])[0]);
        own.push(v);
      },
      signOwn: () => {
        if (own.length > 0) for (const v of identity.signBatch(own.splice(0))) published.push(v);
      },
    } as unknown as GossipService;
    const sink = new SigningResultSink(
      gossip,
      {} as ModuleRef,
      {
        learnSite: () => undefined,
      } as unknown as PingResultEmitter,
    );
    const health: CheckResultSink = { onResult: (s, round) => logged.push([s.id, round]) };
    sink.delegateTo(health);
    return { sink, published, logged };
  }

  const down: CheckResult = {
    up: false,
    latencyMs: 1000.7,
    failure: 'TIMEOUT',
    error: 'no answer',
    phases: { total: 1000.7 },
    checkedAt: 1_700_000_000_000,
  };

  it('signs a vote that the registry verifier accepts, and still logs the result', () => {
    const { sink, published, logged } = setup();
    sink.onResult(spec('site-1'), 42, down);
    void sink.flush();
    expect(published).toHaveLength(1);
    const [v] = published;
    expect(v).toMatchObject({
      siteId: 'site-1',
      round: 42,
      validatorId: 'v1',
      region: 'eu',
      up: false,
      latencyMs: 1001,
      failure: 'TIMEOUT',
      checkedAt: 1_700_000_000_000,
    });
    expect(v).not.toHaveProperty('httpStatus');
    const verifier = new RegistryVoteVerifier({ findByIds: async () => [] });
    verifier.remember(identity);
    expect(verifier.verify(v)).toEqual({ ok: true });
    expect(logged).toEqual([['site-1', 42]]);
  });

  it('never throws into the scheduler and always logs', () => {
    const { sink, published, logged } = setup(() => {
      throw new Error('boom');
    });
    expect(() =>
      sink.onResult(spec('site-1'), 1, { ...down, up: true, httpStatus: 200 }),
    ).not.toThrow();
    expect(() => sink.onResult(spec('bad id with spaces'), 2, down)).not.toThrow();
    void sink.flush();
    expect(published).toEqual([]);
    expect(sink.unsigned).toBe(2);
    expect(logged).toEqual([
      ['site-1', 1],
      ['bad id with spaces', 2],
    ]);
  });
});
