/**
 * The hard deadline every non-HTTP check runs under: the result is due at timeoutMs
 * whatever the work is stuck on, the abort then tears its sockets down, and nothing
 * the work throws escapes (a CheckFailure keeps its class, anything else is CONNECT).
 */
import { performance } from 'node:perf_hooks';
import { CheckFailure, type ConnectTimings } from './guarded-connector';
import type { CheckResult, FailureClass } from './check-result';

export type Outcome = { ok: true } | { ok: false; failure: FailureClass; error: string };

const MAX_ERROR_LENGTH = 1024;

export function fail(failure: FailureClass, error: string): Outcome {
  return { ok: false, failure, error };
}

export interface Timed {
  outcome: Outcome;
  checkedAt: number;
  /** ms, fractional */
  elapsed: number;
}

export async function underDeadline(
  timeoutMs: number,
  cancel: AbortSignal | undefined,
  work: (signal: AbortSignal) => Promise<Outcome>,
): Promise<Timed> {
  const checkedAt = Date.now();
  const t0 = performance.now();
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(new CheckFailure('TIMEOUT', `no answer within ${timeoutMs} ms`)),
    timeoutMs,
  );
  const onCancel = () => deadline.abort(new CheckFailure('TIMEOUT', 'check cancelled'));
  cancel?.addEventListener('abort', onCancel, { once: true });
  const expired = new Promise<Outcome>((resolve) => {
    const onAbort = () => resolve(classify(deadline.signal.reason, deadline.signal));
    if (deadline.signal.aborted) onAbort();
    else deadline.signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const running = work(deadline.signal).catch((e: unknown) => classify(e, deadline.signal));
    const outcome = await Promise.race([running, expired]);
    return { outcome, checkedAt, elapsed: performance.now() - t0 };
  } finally {
    clearTimeout(timer);
    cancel?.removeEventListener('abort', onCancel);
    if (!deadline.signal.aborted) deadline.abort(new CheckFailure('TIMEOUT', 'check over'));
  }
}

function classify(e: unknown, signal: AbortSignal): Outcome {
  if (signal.aborted && signal.reason instanceof CheckFailure) {
    return fail(signal.reason.failure, signal.reason.message);
  }
  if (e instanceof CheckFailure) return fail(e.failure, e.message);
  return fail('CONNECT', (e as Error | undefined)?.message ?? String(e));
}

/** The CheckResult of a finished non-HTTP check. */
export function resultOf(
  t: Timed,
  timings: ConnectTimings = {},
  extra: Partial<CheckResult> = {},
): CheckResult {
  const { outcome } = t;
  return {
    up: outcome.ok,
    latencyMs: Math.round(t.elapsed),
    ...(outcome.ok ? {} : { failure: outcome.failure, error: clip(outcome.error) }),
    phases: {
      ...(timings.dns !== undefined ? { dns: ms(timings.dns) } : {}),
      ...(timings.connect !== undefined ? { connect: ms(timings.connect) } : {}),
      ...(timings.tls !== undefined ? { tls: ms(timings.tls) } : {}),
      total: ms(t.elapsed),
    },
    checkedAt: t.checkedAt,
    ...(timings.remoteAddress ? { remoteAddress: timings.remoteAddress } : {}),
    ...extra,
  };
}

export function ms(x: number): number {
  return Math.round(x * 10) / 10;
}

export function clip(s: string): string {
  return s.length <= MAX_ERROR_LENGTH ? s : `${s.slice(0, MAX_ERROR_LENGTH - 1)}…`;
}
