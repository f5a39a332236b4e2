/**
 * One HTTP(S) check: resolves, returns within timeoutMs whatever the target does
 * (DNS, connect, TLS, headers and the bounded body read all share one deadline) and
 * never throws. Connections: a site whose check says `connection: 'reuse'` (the API's
 * default) shares a bounded keep-alive pool per origin, each connection closed after
 * `requestsPerConnection` checks so connecting is measured again; a pooled request the
 * server had closed under it is tried once more on a fresh connection before it counts
 * as a failure. Otherwise (`fresh`, or a target without a check spec) a connection per check.
 */
import { performance } from 'node:perf_hooks';
import type { ConnectionOptions } from 'node:tls';
import { LRUCache } from 'lru-cache';
import { Agent, Client, Dispatcher, type buildConnector } from 'undici';
import { BlockedTargetError, parseTargetUrl } from '@/common/net/ssrf-guard';
import { DnsCache } from '@/modules/dns/dns-cache';
import { readBounded, scanBody } from './body-scan';
import { clip, fail, ms, type Outcome } from './check-deadline';
import { DEFAULT_CHECK, type HttpCheckSpec } from './check-spec';
import { describeAccepted, judgeBody, needsBody, statusAccepted } from './http-assertions';
import { facts } from './tcp-checker';
import {
  CheckFailure,
  ConnectContext,
  ConnectTimings,
  guardedConnector,
} from './guarded-connector';
import { Checker, CheckResult, CheckTarget } from './check-result';

export interface HttpCheckerOptions {
  allowPrivateTargets: boolean;
  /** body bytes read at most, keyword or not (then the connection is dropped) */
  maxBodyBytes: number;
  userAgent: string;
  /** trusted CAs instead of the system's (tests) */
  ca?: ConnectionOptions['ca'];
  /** keep-alive connections kept at most (sites that ask for reuse by keepAliveKey) */
  maxKeepAlive: number;
  /** connections per origin in the shared pool */
  poolConnections: number;
  /** checks carried by one pooled connection before it is closed */
  requestsPerConnection: number;
}

export const DEFAULT_HTTP_CHECKER_OPTIONS: HttpCheckerOptions = {
  allowPrivateTargets: false,
  maxBodyBytes: 1024 * 1024,
  userAgent: 'uptime-validator/1',
  maxKeepAlive: 1_000,
  poolConnections: 16,
  requestsPerConnection: 100,
};

// A pooled connection is not any one check's: it gets its own connect deadline.
const POOL_CONNECT_TIMEOUT_MS = 10_000;

const DEFAULT_MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

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

/** An origin's use of the shared pool; a new connection's timings go to the last check. */
interface OriginUse {
  origin: string;
  /** checks holding one of its connections now */
  busy: number;
  current: ConnectTimings;
}

type Via = { kind: 'fresh' } | { kind: 'site'; key: string } | { kind: 'origin' };

interface Req {
  spec: HttpCheckSpec;
  method: HttpCheckSpec['method'];
  body: string | null;
}

interface CheckState {
  timings: ConnectTimings;
  status?: number;
  redirects: number;
  firstByte?: number;
  /** clients opened for this check alone, destroyed when it ends */
  owned: Client[];
  /** origins this check holds a pooled connection of, released when it ends */
  leases: OriginUse[];
}

export class HttpChecker extends Checker {
  private readonly opts: HttpCheckerOptions;
  private readonly keepAlive: LRUCache<string, SharedClient>;
  /**
   * The per-origin keep-alive pool: undici drops an origin once its last connection
   * closes (idle ones after a few seconds), so it holds live connections only.
   */
  private readonly pool: Agent;
  /** origins with checks in flight on the pool (bounded by the checks in flight) */
  private readonly inUse = new Map<string, OriginUse>();

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
    this.pool = new Agent({
      ...this.clientOptions((opts) => ({
        // Not any one check's connection: its own connect deadline.
        signal: AbortSignal.timeout(POOL_CONNECT_TIMEOUT_MS),
        timings: this.inUse.get(originOf(opts))?.current ?? {},
      })),
      connections: this.opts.poolConnections,
      // undici resets the socket on the request after its max: one less makes it the Nth.
      maxRequestsPerClient: Math.max(1, this.opts.requestsPerConnection - 1),
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
    const state: CheckState = { timings: {}, redirects: 0, owned: [], leases: [] };

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
      const maxLatency = specOf(target).assertions.maxLatencyMs;
      const took = performance.now() - t0;
      if (outcome.ok && maxLatency !== null && took > maxLatency) {
        outcome = fail(
          'TIMEOUT',
          `answered in ${Math.round(took)} ms, over maxLatencyMs ${maxLatency}`,
        );
      }
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onCancel);
      // A finished exchange closes gracefully (nothing is pending, so close() resolves
      // at once); one cut short by the deadline is torn down.
      const cutShort = deadline.signal.aborted;
      for (const use of state.leases) this.release1(use);
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
      ...(t.certificateValidTo !== undefined
        ? { certificate: facts(t.certificateValidTo, checkedAt) }
        : {}),
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
    await this.pool.destroy().catch(() => undefined);
  }

  async onModuleDestroy(): Promise<void> {
    await this.close();
  }

  private async run(target: CheckTarget, signal: AbortSignal, state: CheckState): Promise<Outcome> {
    const follow = target.followRedirects ?? true;
    const maxRedirects = target.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
    const spec = specOf(target);
    let url = this.parse(target.url);
    let method = spec.method;
    const via: Via =
      target.keepAliveKey !== undefined
        ? { kind: 'site', key: target.keepAliveKey }
        : target.check?.kind === 'http' && target.check.connection === 'reuse'
          ? { kind: 'origin' }
          : { kind: 'fresh' };

    for (;;) {
      const body = method === spec.method ? spec.body : null;
      const hop = await this.request(url, { spec, method, body }, via, signal, state);
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
        // As browsers do: 303, and 301/302 after a POST, continue as GET without the body.
        if (hop.status === 303 || (method === 'POST' && hop.status <= 302)) method = 'GET';
        continue;
      }
      const ranges = spec.assertions.status;
      if (!statusAccepted(hop.status, target.expectedStatus, ranges)) {
        discard(hop.body);
        const expected = describeAccepted(target.expectedStatus, ranges);
        return fail('HTTP_STATUS', `status ${hop.status}, expected ${expected}`);
      }
      if (needsBody(spec.assertions)) {
        const read = await readBounded(hop.body, this.opts.maxBodyBytes);
        return judgeBody(read.body, read.truncated, target.keyword, spec.assertions);
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
    req: Req,
    via: Via,
    signal: AbortSignal,
    state: CheckState,
  ): Promise<Hop> {
    if (via.kind !== 'origin') return this.send(url, req, via, signal, state);
    try {
      return await this.send(url, req, via, signal, state);
    } catch (e) {
      // A kept connection the server closed while idle is not the site failing: once
      // more on a fresh one (browsers do the same). A connect of this check's own, a
      // guard refusal or the deadline are real answers.
      if (e instanceof CheckFailure || signal.aborted || state.timings.connect !== undefined)
        throw e;
      return this.send(url, req, { kind: 'fresh' }, signal, state);
    }
  }

  private async send(
    url: URL,
    req: Req,
    via: Via,
    signal: AbortSignal,
    state: CheckState,
  ): Promise<Hop> {
    const ctx: ConnectContext = { signal, timings: state.timings };
    const client = this.dispatcherFor(url, via, ctx, state);
    const sentAt = performance.now();
    const res = await client.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: req.method,
      headers: {
        'user-agent': this.opts.userAgent,
        accept: '*/*',
        ...req.spec.headers,
        // Compressed bodies would hide the keyword; the size bound covers the cost.
        'accept-encoding': 'identity',
      },
      ...(req.body !== null ? { body: req.body } : {}),
      signal,
      // "Connection: close" on a connection of this check's own.
      reset: via.kind === 'fresh',
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

  private dispatcherFor(url: URL, via: Via, ctx: ConnectContext, state: CheckState): Dispatcher {
    if (via.kind === 'origin') {
      const use = this.inUse.get(url.origin) ?? { origin: url.origin, busy: 0, current: {} };
      // A check never waits in the pool's queue (the wait would count as the site's
      // latency): with every connection of its origin busy it connects on its own.
      if (use.busy >= this.opts.poolConnections) return this.fresh(url, ctx, state);
      use.busy += 1;
      use.current = ctx.timings;
      this.inUse.set(url.origin, use);
      state.leases.push(use);
      return this.pool;
    }
    if (via.kind === 'fresh') return this.fresh(url, ctx, state);
    const key = `${via.key} ${url.origin}`;
    let shared = this.keepAlive.get(key);
    if (!shared || shared.client.destroyed || shared.client.closed) {
      const fresh: SharedClient = { client: undefined as unknown as Client };
      fresh.client = new Client(
        url.origin,
        this.clientOptions(() => fresh.current ?? ctx),
      );
      this.keepAlive.set(key, fresh);
      shared = fresh;
    }
    shared.current = ctx;
    return shared.client;
  }

  private release1(use: OriginUse): void {
    use.busy -= 1;
    if (use.busy <= 0 && this.inUse.get(use.origin) === use) this.inUse.delete(use.origin);
  }

  private fresh(url: URL, ctx: ConnectContext, state: CheckState): Client {
    const client = new Client(
      url.origin,
      this.clientOptions(() => ctx),
    );
    state.owned.push(client);
    return client;
  }

  private clientOptions(ctx: (opts: buildConnector.Options) => ConnectContext) {
    return {
      connect: guardedConnector(
        { dns: this.dns, allowPrivate: this.opts.allowPrivateTargets, ca: this.opts.ca },
        ctx,
      ),
      pipelining: 1,
      // Our own deadline governs; these only make sure undici never waits longer.
      headersTimeout: 0,
      bodyTimeout: 0,
    };
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

/** The origin undici dials, as URL.origin spells it (default ports omitted). */
function originOf(opts: buildConnector.Options): string {
  return `${opts.protocol}//${opts.hostname}${opts.port ? `:${opts.port}` : ''}`;
}

function specOf(target: CheckTarget): HttpCheckSpec {
  return target.check?.kind === 'http' ? target.check : DEFAULT_CHECK;
}
