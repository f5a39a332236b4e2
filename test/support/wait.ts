/** Polling for tests on real processes: an outcome that must come within a bound. */

/**
 * Polls `probe` every `everyMs` until it answers something truthy; returns the answer and how
 * long it took. Throws `<what>: not within <timeoutMs> ms` when it never does.
 */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | null | undefined | false>,
  everyMs = 50,
): Promise<{ value: T; after: number }> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const v = await probe();
    if (v) return { value: v, after: Date.now() - t0 };
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
