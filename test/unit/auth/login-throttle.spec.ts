import { FREE_FAILURES, IP_LIMIT, LoginThrottle } from '@/modules/auth/login-throttle';

describe('LoginThrottle', () => {
  let now = 1_000_000;
  const clock = () => now;

  it('counts an attempt before the password is checked: concurrent guesses cannot slip past', () => {
    const t = new LoginThrottle(clock);
    const started = Array.from({ length: 50 }, () => t.begin('alice@x', '10.0.0.1'));
    const admitted = started.filter((s) => 'finish' in s);
    expect(admitted).toHaveLength(FREE_FAILURES);
    for (const s of admitted) if ('finish' in s) s.finish(false);
    expect(t.begin('alice@x', '10.0.0.1')).toEqual({ waitSec: 1 });
  });

  it('slows an attacker progressively without locking the owner out from another IP', () => {
    const t = new LoginThrottle(clock);
    const waits: number[] = [];
    for (let i = 0; i < 14; i++) {
      const a = t.begin('bob@x', '10.0.0.2');
      if ('waitSec' in a) {
        waits.push(a.waitSec);
        now += a.waitSec * 1000; // the attacker waits as told
        i--;
        continue;
      }
      a.finish(false);
    }
    expect(waits).toEqual([1, 2, 4, 8]);
    // The owner, elsewhere, gets in at once and is remembered there.
    const owner = t.begin('bob@x', '192.0.2.7');
    expect('finish' in owner).toBe(true);
    if ('finish' in owner) owner.finish(true);
  });

  it('caps attempts per IP across accounts', () => {
    const t = new LoginThrottle(clock);
    for (let i = 0; i < IP_LIMIT; i++) {
      const a = t.begin(`user${i}@x`, '10.0.0.3');
      if ('finish' in a) a.finish(false);
    }
    expect(t.begin('another@x', '10.0.0.3')).toMatchObject({ waitSec: expect.any(Number) });
  });
});
