/**
 * Client writes around a leadership handover (SIGTERM's path), on three real
 * RaftHost instances over real HTTP and disks: a write that reaches the
 * leader while it hands over is held, then refused naming the new leader
 * once that one leads (not "unknown", not the old leader itself, so the
 * client goes straight there and is served); and a node with no leader in
 * sight holds a write no longer than its bound.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { DomainError } from '@/common/domain-error';
import { waitFor } from '../support/wait';
import { HostNode, planHosts, type HostSpec } from './raft-support/host-cluster';

jest.setTimeout(60_000);

describe('client writes around a leadership handover', () => {
  let root: string;
  let specs: HostSpec[];
  const nodes: HostNode[] = [];
  const leaderOf = () => nodes.find((n) => n.host.isLeader());

  beforeAll(async () => {
    Logger.overrideLogger(['error']);
    root = mkdtempSync(join(tmpdir(), 'raft-handover-'));
    specs = await planHosts(3, (i) => join(root, `h${i + 1}`));
    for (const s of specs) nodes.push(await HostNode.start(s, specs, { snapshotEvery: 100_000 }));
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('holds writes during the handover, then names the new leader, which takes them', async () => {
    const { value: old } = await waitFor('a leader', 15_000, async () => leaderOf());
    // A committed write first: every follower has heard from this leader.
    await old.host.proposeWhenSettled('kv', { op: 'put', key: 'before', value: '1' });

    const handover = old.host.handOverLeadership(10_000);
    // The transfer has started: the old leader refuses new proposals outright...
    expect(() => old.host.propose('kv', { op: 'put', key: 'x', value: '1' })).toThrow(/leader: /);
    // ...but a client's write waits for the outcome instead of bouncing.
    const held = old.host
      .proposeWhenSettled('kv', { op: 'put', key: 'during', value: '1' }, 10_000)
      .then(
        () => null,
        (e: unknown) => e,
      );
    const successor = await handover;
    expect(successor).not.toBeNull();
    const refusal = await held;
    expect(refusal).toBeInstanceOf(DomainError);
    expect((refusal as DomainError).code).toBe('NOT_LEADER');
    expect((refusal as DomainError).message).toBe(`not the leader; leader: ${successor}`);

    // The handover ended once the successor led: it takes the write the refusal sent to it.
    const next = nodes.find((n) => n.spec.address === successor)!;
    expect(next.host.isLeader()).toBe(true);
    await next.host.proposeWhenSettled('kv', { op: 'put', key: 'after', value: '2' }, 10_000);
    expect(next.host.kv.get('after')).toBe('2');
    expect(next.host.kv.get('during')).toBeNull();
  });

  it('holds a write no longer than its bound when no leader can be elected', async () => {
    const { value: leader } = await waitFor('a leader', 15_000, async () => leaderOf());
    const others = nodes.filter((n) => n !== leader);
    await Promise.all(others.map((n) => n.stop()));
    // Alone, the old leader steps down (check-quorum) and no election can succeed.
    await waitFor('the lone node steps down', 10_000, async () => !leader.host.isLeader());
    await waitFor('no leader known', 10_000, async () => leader.host.snapshot().leaderId === null);
    const t0 = performance.now();
    await expect(
      leader.host.proposeWhenSettled('kv', { op: 'put', key: 'k', value: 'v' }, 300),
    ).rejects.toThrow('not the leader; leader: unknown');
    // Not before its bound (no upper bound asserted: a loaded machine may run timers late).
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
  });
});
