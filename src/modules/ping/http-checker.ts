/**
 * One HTTP(S) check: resolves, returns within timeoutMs whatever the target does
 * (DNS, connect, TLS, headers and the bounded body read all share one deadline),
 * never throws, and uses a fresh connection unless the target asks for keep-alive.
 */
import { performance } from 'node:perf_hooks';
import type { ConnectionOptions } from 'node:tls';
import { LRUCache } from 'lru-cache';
import { Client, Dispatcher } from 'undici';
import { BlockedTargetError, parseTargetUrl } from '@/common/net/ssrf-guard';
import { DnsCache } from '@/modules/dns/dns-cache';
import { scanBody } from './body-scan';
import {
  CheckFailure,
  ConnectContext,
  ConnectTimings,
  guardedConnector,
} from './guarded-connector';
import { Checker, CheckResult, CheckTarget, FailureClass } from './check-result';

export interface HttpCheckerOptions {
  allowPrivateTargets: boolean;
  /** body bytes read at most, keyword or not (then the connection is dropped) */
  maxBodyBytes: number;
  userAgent: string;
  /** trusted CAs instead of the system's (tests) */
  ca?: ConnectionOptions['ca'];
  /** keep-alive connections kept at most (sites that ask for reuse) */
  maxKeepAlive: number;
}

export const DEFAULT_HTTP_CHECKER_OPTIONS: HttpCheckerOptions = {
  allowPrivateTargets: false,
  maxBodyBytes: 1024 * 1024,
  userAgent: 'uptime-validator/1',
  maxKeepAlive: 1_000,
};

const DEFAULT_MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_ERROR_LENGTH = 1024;

interface Hop {
  status: number;
  location?: string;
  body: Dispatcher.ResponseData['body'];
}

/** A keep-alive client serves one check at a time; `current` is that check. */
interface SharedClient {
  client: Client;
  current?: ConnectContext;
}

interface CheckState {
  timings: ConnectTimings;
  status?: number;
  redirects: number;
  firstByte?: number;
  /** clients opened for this check alone, destroyed when it ends */
  owned: Client[];
}

type Outcome = { ok: true } | { ok: false; failure: FailureClass; error: string };

export class HttpChecker extends Checker {
  private readonly opts: HttpCheckerOptions;
  private readonly keepAlive: LRUCache<string, SharedClient>;

  constructor(
    private readonly dns: DnsCache,
    options: Partial<HttpCheckerOptions> = {},
  ) {
    super();
    this.opts = { ...DEFAULT_HTTP_CHECKER_OPTIONS, ...options };
    this.keepAlive = new LRUCache<string, SharedClient>({
      max: this.opts.maxKeepAlive,
      dispose: (shared) => void shared.client.destroy().catch(() => undefined),
    });
  }

  override async check(target: CheckTarget, signal?: AbortSignal): Promise<CheckResult> {
    const checkedAt = Date.now();
    const t0 = performance.now();
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new CheckFailure('TIMEOUT', `no answer within ${target.timeoutMs} ms`)),
      target.timeoutMs,
    );
    const onCancel = () => deadline.abort(new CheckFailure('TIMEOUT', 'check cancelled'));
    signal?.addEventListener('abort', onCancel, { once: true });
    const state: CheckState = { timings: {}, redirects: 0, owned: [] };

    // The race is the hard bound: whatever the work is stuck on, the result is due
    // at the deadline; the abort then tears the sockets down behind it.
    const work = this.run(target, deadline.signal, state).catch((e) =>
      this.classify(e, deadline.signal),
    );
    const expired = new Promise<Outcome>((resolve) => {
      const onAbort = () => resolve(this.classify(deadline.signal.reason, deadline.signal));
      if (deadline.signal.aborted) onAbort();
      else deadline.signal.addEventListener('abort', onAbort, { once: true });
    });
    let outcome: Outcome;
    try {
      outcome = await Promise.race([work, expired]);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onCancel);
      // A finished exchange closes gracefully (nothing is pending, so close() resolves
      // at once); one cut short by the deadline is torn down.
      const cutShort = deadline.signal.aborted;
      for (const c of state.owned) {
        void (cutShort ? c.destroy() : c.close()).catch(() => undefined);
      }
    }

    const total = performance.now() - t0;
    const t = state.timings;
    return {
      up: outcome.ok,
      latencyMs: Math.round(total),
      ...(state.status !== undefined ? { httpStatus: state.status } : {}),
      ...(outcome.ok ? {} : { failure: outcome.failure, error: clip(outcome.error) }),
      phases: {
        ...(t.dns !== undefined ? { dns: ms(t.dns) } : {}),
        ...(t.connect !== undefined ? { connect: ms(t.connect) } : {}),
        ...(t.tls !== undefined ? { tls: ms(t.tls) } : {}),
        ...(state.firstByte !== undefined ? { firstByte: ms(state.firstByte) } : {}),
        total: ms(total),
      },
      checkedAt,
      ...(t.remoteAddress ? { remoteAddress: t.remoteAddress } : {}),
      ...(state.redirects > 0 ? { redirects: state.redirects } : {}),
    };
  }

  /** Drops the keep-alive connection of a site that is gone. */
  override release(keepAliveKey: string): void {
    for (const key of this.keepAlive.keys()) {
      if (key.startsWith(`${keepAliveKey} `)) this.keepAlive.delete(key);
    }
  }

  async close(): Promise<void> {
    this.keepAlive.clear();
  }

  async onModuleDestroy(): Promise<void> {
    await this.close();
  }

  private async run(target: CheckTarget, signal: AbortSignal, state: CheckState): Promise<Outcome> {
    const follow = target.followRedirects ?? true;
    const maxRedirects = target.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
    let url = this.parse(target.url);

    for (;;) {
      const hop = await this.request(url, target.keepAliveKey, signal, state);
      state.status = hop.status;
      if (follow && REDIRECTS.has(hop.status) && hop.location !== undefined) {
        discard(hop.body);
        if (state.redirects >= maxRedirects) {
          return fail('HTTP_STATUS', `more than ${maxRedirects} redirects`);
        }
        let next: URL;
        try {
          next = new URL(hop.location, url);
        } catch {
          return fail('HTTP_STATUS', `redirect to an invalid Location: ${hop.location}`);
        }
        url = this.parse(next, 'redirect to '); // every hop passes the guard again
        state.redirects += 1;
        continue;
      }
      if (!statusAccepted(hop.status, target.expectedStatus)) {
        discard(hop.body);
        const expected = target.expectedStatus?.length ? target.expectedStatus.join(',') : '2xx';
        return fail('HTTP_STATUS', `status ${hop.status}, expected ${expected}`);
      }
      const keyword = target.keyword ? Buffer.from(target.keyword, 'utf8') : undefined;
      const scan = await scanBody(hop.body, keyword, this.opts.maxBodyBytes);
      if (keyword && !scan.found) {
        return fail('KEYWORD', `keyword not found in the first ${scan.bytes} bytes`);
      }
      return { ok: true };
    }
  }

  private parse(url: string | URL, context = ''): URL {
    try {
      return parseTargetUrl(url, this.opts.allowPrivateTargets);
    } catch (e) {
      const where = context ? `${context}${String(url)}: ` : '';
      throw new CheckFailure('BLOCKED', `${where}${(e as BlockedTargetError).message}`);
    }
  }

  private async request(
    url: URL,
    keepAliveKey: string | undefined,
    signal: AbortSignal,
    state: CheckState,
  ): Promise<Hop> {
    const ctx: ConnectContext = { signal, timings: state.timings };
    const client = this.clientFor(url, keepAliveKey, ctx, state);
    const sentAt = performance.now();
    const res = await client.request({
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers: {
        'user-agent': this.opts.userAgent,
        accept: '*/*',
        // Compressed bodies would hide the keyword; the size bound covers the cost.
        'accept-encoding': 'identity',
      },
      signal,
      // "Connection: close" unless the site asked for reuse: each check pays for a
      // real connect, which is what availability means.
      reset: keepAliveKey === undefined,
    });
    // Time from the moment the connection could carry the request (a fresh one
    // becomes ready after sentAt, a reused one already was) to parsed headers.
    const readyAt = Math.max(sentAt, state.timings.readyAt ?? sentAt);
    state.firstByte = performance.now() - readyAt;
    const location = res.headers.location;
    return {
      status: res.statusCode,
      location: Array.isArray(location) ? location[0] : location,
      body: res.body,
    };
  }

  private clientFor(
    url: URL,
    keepAliveKey: string | undefined,
    ctx: ConnectContext,
    state: CheckState,
  ): Client {
    const options = (connect: () => ConnectContext) => ({
      connect: guardedConnector(
        { dns: this.dns, allowPrivate: this.opts.allowPrivateTargets, ca: this.opts.ca },
        connect,
      ),
      pipelining: 1,
      // Our own deadline governs; these only make sure undici never waits longer.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    if (keepAliveKey === undefined) {
      const client = new Client(
        url.origin,
        options(() => ctx),
      );
      state.owned.push(client);
      return client;
    }
    const key = `${keepAliveKey} ${url.origin}`;
    let shared = this.keepAlive.get(key);
    if (!shared || shared.client.destroyed || shared.client.closed) {
      const fresh: SharedClient = { client: undefined as unknown as Client };
      fresh.client = new Client(
        url.origin,
        options(() => fresh.current ?? ctx),
      );
      this.keepAlive.set(key, fresh);
      shared = fresh;
    }
    shared.current = ctx;
    return shared.client;
  }

  private classify(e: unknown, signal: AbortSignal): Outcome {
    // Once the deadline passed, whatever error the teardown produced, the cause is time.
    if (signal.aborted && signal.reason instanceof CheckFailure) {
      return fail(signal.reason.failure, signal.reason.message);
    }
    if (e instanceof CheckFailure) return fail(e.failure, e.message);
    const err = e as { code?: string; message?: string } | undefined;
    const code = err?.code ?? '';
    const message = `${code ? `${code}: ` : ''}${err?.message ?? String(e)}`;
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
      return fail('TIMEOUT', message);
    }
    if (
      code.startsWith('HPE_') ||
      code === 'UND_ERR_HEADERS_OVERFLOW' ||
      code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' ||
      code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE'
    ) {
      return fail('HTTP_STATUS', `invalid HTTP response: ${message}`);
    }
    // Reset, closed early, refused after connect: the connection did not carry a response.
    return fail('CONNECT', message);
  }
}

/** Drops a body we will not read; undici reports that as an error nobody needs. */
function discard(body: Hop['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

function fail(failure: FailureClass, error: string): Outcome {
  return { ok: false, failure, error };
}

function statusAccepted(status: number, expected: readonly number[] | undefined): boolean {
  if (!expected || expected.length === 0) return status >= 200 && status < 300;
  return expected.includes(status);
}

function ms(x: number): number {
  return Math.round(x * 10) / 10;
}

function clip(s: string): string {
  return s.length <= MAX_ERROR_LENGTH ? s : `${s.slice(0, MAX_ERROR_LENGTH - 1)}…`;
}
