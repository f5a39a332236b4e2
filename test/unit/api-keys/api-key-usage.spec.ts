// Last-used times are batched and throttled: many uses of a key in a minute cost one row write,
// a later use is written again, and a batch carries many keys in one statement.
import { THROTTLE_MS, UsageRecorder } from '@/modules/api-keys/api-key-usage';

describe('UsageRecorder', () => {
  let now = 1_000_000;
  const statements: { id: string; at: Date }[][] = [];
  const recorder = new UsageRecorder(
    { touch: async (uses) => void statements.push(uses) },
    () => now,
  );

  it('writes a key at most once per THROTTLE_MS however often it is used', async () => {
    for (let i = 0; i < 10_000; i++) {
      recorder.used('a');
      if (i % 1000 === 0) await recorder.flush();
      now += 5; // 10,000 uses over 50 s
    }
    await recorder.flush();
    expect(recorder.writes).toBe(1);
    expect(statements).toEqual([[{ id: 'a', at: new Date(1_000_000) }]]);

    now = 1_000_000 + THROTTLE_MS;
    recorder.used('a');
    await recorder.flush();
    expect(recorder.writes).toBe(2);
  });

  it('puts every key used since the last flush into one statement', async () => {
    statements.length = 0;
    for (const id of ['b', 'c', 'd', 'b']) recorder.used(id);
    await recorder.flush();
    await recorder.flush(); // nothing pending: no statement
    expect(statements).toHaveLength(1);
    expect(statements[0].map((u) => u.id).sort()).toEqual(['b', 'c', 'd']);
  });
});
