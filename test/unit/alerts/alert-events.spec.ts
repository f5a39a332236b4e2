// The health-alerts and validator-status payloads: what v1 accepts, what it refuses and why.
import { randomUUID } from 'node:crypto';
import {
  alertDedupKey,
  HealthAlertV1,
  parseHealthAlert,
  parseValidatorStatus,
} from '@/modules/alerts/alert-events';
import { UnknownValidatorProgress, validatorStatus } from '@/modules/alerts/validator-heartbeat';
import type { AppConfig } from '@/config/app-config';
import type { ClusterStatus } from '@/modules/raft/cluster-status';

const siteId = randomUUID();
const valid = (over: Partial<HealthAlertV1> = {}): HealthAlertV1 => {
  const base = {
    v: 1 as const,
    alertId: randomUUID(),
    siteId,
    url: 'https://example.com',
    kind: 'REGION_DOWN' as const,
    region: 'eu-west-1' as string | null,
    round: 12,
    decisionLogIndex: 99,
    tally: { up: 2, down: 1, total: 3 },
    at: '2026-11-28T12:00:00.000Z',
    ...over,
  };
  return { ...base, dedupKey: over.dedupKey ?? alertDedupKey(base) };
};

describe('HealthAlertV1', () => {
  it('accepts a region alert and a global one', () => {
    expect(parseHealthAlert(valid())).toMatchObject({ ok: true });
    expect(parseHealthAlert(valid({ kind: 'DOWN', region: null }))).toMatchObject({ ok: true });
  });

  it('keys dedup by site, round, kind and region', () => {
    expect(alertDedupKey({ siteId: 's', round: 3, kind: 'DOWN', region: null })).toBe('s:3:DOWN:*');
    expect(alertDedupKey({ siteId: 's', round: 3, kind: 'REGION_DOWN', region: 'eu' })).toBe(
      's:3:REGION_DOWN:eu',
    );
  });

  it.each([
    ['a region on a global kind', { kind: 'DOWN', region: 'eu-west-1' }, 'region'],
    ['no region on a region kind', { region: null }, 'region'],
    ['another version', { v: 2 }, 'v'],
    ['a non-uuid site', { siteId: 'site-1' }, 'siteId'],
    ['a negative round', { round: -1 }, 'round'],
    ['a time without zone', { at: '2026-11-28 12:00' }, 'at'],
    ['a foreign dedup key', { dedupKey: 'whatever' }, 'dedupKey'],
  ] as const)('refuses %s, naming the field', (_what, over, field) => {
    const r = parseHealthAlert({ ...valid(), ...over });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(field);
  });

  it('refuses what is not an object at all', () => {
    for (const v of [null, 'text', 42, []]) expect(parseHealthAlert(v).ok).toBe(false);
  });
});

describe('ValidatorStatusV1', () => {
  it('is built from ClusterStatus and validates', () => {
    const config = { node: { id: 'v1', region: 'us-east-1' } } as AppConfig;
    const cluster = {
      snapshot: () => ({
        nodeId: 'v1',
        role: 'leader',
        term: 4,
        leaderId: 'v1',
        commitIndex: 17,
        appliedIndex: 17,
        voters: 3,
      }),
    } as ClusterStatus;
    const status = validatorStatus(
      config,
      cluster,
      new UnknownValidatorProgress(),
      Date.parse('2026-11-28T00:00:00Z'),
    );
    expect(status).toEqual({
      v: 1,
      validatorId: 'v1',
      region: 'us-east-1',
      raftRole: 'leader',
      term: 4,
      leaderId: 'v1',
      commitIndex: 17,
      lastRound: null,
      lagMs: null,
      at: '2026-11-28T00:00:00.000Z',
    });
    expect(parseValidatorStatus(status)).toEqual({ ok: true, value: status });
    expect(parseValidatorStatus({ ...status, raftRole: 'king' }).ok).toBe(false);
  });
});
