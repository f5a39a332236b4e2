/**
 * Keyword search over a streamed body: finds matches across chunk boundaries,
 * stops at the byte bound, and stops reading as soon as the keyword is seen.
 */
import { scanBody } from '@/modules/ping/body-scan';

async function* chunks(parts: string[], read: { n: number }) {
  for (const p of parts) {
    read.n += 1;
    yield Buffer.from(p);
  }
}

describe('scanBody', () => {
  it('finds a keyword split over several chunks', async () => {
    const read = { n: 0 };
    const r = await scanBody(
      chunks(['abc NE', 'E', 'DLE tail', 'more'], read),
      Buffer.from('NEEDLE'),
      1e6,
    );
    expect(r.found).toBe(true);
    expect(read.n).toBe(3); // stopped before the last chunk
  });

  it('does not look past the byte bound', async () => {
    const read = { n: 0 };
    const r = await scanBody(chunks(['x'.repeat(10), 'NEEDLE'], read), Buffer.from('NEEDLE'), 12);
    expect(r).toEqual({ found: false, bytes: 12 });
  });

  it('without a keyword, reads up to the bound and reports found', async () => {
    const read = { n: 0 };
    const r = await scanBody(chunks(['a'.repeat(8), 'b'.repeat(8), 'c'], read), undefined, 10);
    expect(r).toEqual({ found: true, bytes: 10 });
    expect(read.n).toBe(2);
  });

  it('matches multi-byte UTF-8 keywords byte for byte', async () => {
    const kw = Buffer.from('Grüße');
    const bytes = Buffer.from('hello Grüße!');
    const split = [bytes.subarray(0, 9).toString('latin1'), bytes.subarray(9).toString('latin1')];
    const r = await scanBody(
      (async function* () {
        for (const s of split) yield Buffer.from(s, 'latin1');
      })(),
      kw,
      1e6,
    );
    expect(r.found).toBe(true);
  });
});
