/**
 * Every connection a check opens goes through here (undici's connector for http, and
 * openGuarded directly for tcp and tls): it resolves the host via the DNS cache, refuses
 * non-public addresses (re-checked on the address actually dialled, so DNS rebinding
 * cannot slip past), dials the IP itself and times dns/connect/tls.
 */
import { isIP, Socket, connect as tcpConnect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect, ConnectionOptions, TLSSocket } from 'node:tls';
import type { buildConnector } from 'undici';
import {
  assertAllowedAddress,
  BlockedTargetError,
  classifyHostname,
  isAllowedClass,
} from '@/common/net/ssrf-guard';
import { DnsCache, DnsLookupError } from '@/modules/dns/dns-cache';
import type { FailureClass } from './check-result';

/**
 * A failure whose class is already known where it happened. It is an answer about the
 * site, not a bug: no stack is captured (a DOWN site fails every round, and V8 formats
 * the stack when a stream is destroyed with the error).
 */
export class CheckFailure extends Error {
  constructor(
    readonly failure: FailureClass,
    message: string,
    readonly code?: string,
  ) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = 'CheckFailure';
  }
}

/** Where one check's connection timings accumulate (redirect hops add up). */
export interface ConnectTimings {
  dns?: number;
  connect?: number;
  tls?: number;
  remoteAddress?: string;
  /** performance.now() when the last socket became ready for HTTP */
  readyAt?: number;
  /** notAfter of the certificate the last TLS handshake was shown, epoch ms */
  certificateValidTo?: number;
}

export interface ConnectContext {
  signal: AbortSignal;
  timings: ConnectTimings;
}

export interface ConnectorDeps {
  dns: DnsCache;
  allowPrivate: boolean;
  /** extra trust (tests); undefined: the system's root CAs */
  ca?: ConnectionOptions['ca'];
}

// Several A records: try the next only when this one refuses outright; at most 3,
// all inside the same deadline.
const MAX_ADDRESS_ATTEMPTS = 3;
const TRY_NEXT_ADDRESS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/**
 * A connector reading its per-check context from `ctx(opts)`: a fresh client per check
 * returns a constant, a keep-alive client the check currently using it, the shared
 * pool the last check of the origin being dialled.
 */
export function guardedConnector(
  deps: ConnectorDeps,
  ctx: (opts: buildConnector.Options) => ConnectContext,
): buildConnector.connector {
  return (opts, callback) => {
    const c = ctx(opts);
    open(deps, c, opts).then(
      (socket) => callback(null, socket),
      (err: Error) => callback(err, null),
    );
  };
}

/** How to secure a socket once connected; `verify: false` leaves judging the chain to the caller. */
export interface TlsMode {
  /** the name to verify (and send as SNI unless it is an IP literal); default: the host */
  servername?: string;
  verify: boolean;
  alpn?: string[];
}

export interface Dial {
  host: string;
  port: number;
  tls?: TlsMode;
}

function open(
  deps: ConnectorDeps,
  ctx: ConnectContext,
  opts: buildConnector.Options,
): Promise<Socket> {
  const https = opts.protocol === 'https:';
  return openGuarded(deps, ctx, {
    host: opts.hostname.replace(/^\[|\]$/g, ''),
    port: Number(opts.port) || (https ? 443 : 80),
    ...(https ? { tls: { verify: true, alpn: ['http/1.1'] } } : {}),
  });
}

/**
 * Resolves `host` through the DNS cache, refuses any non-public address, dials the
 * first that answers and, with `tls`, completes the handshake: every kind of check
 * that opens a connection opens it here.
 */
export async function openGuarded(
  deps: ConnectorDeps,
  ctx: ConnectContext,
  dialTo: Dial,
): Promise<Socket> {
  const { signal, timings } = ctx;
  const { host, port } = dialTo;

  const addresses = isIP(host) ? [host] : await resolve(deps, host, ctx);
  try {
    // Every address, not only the first: a mixed answer is a rebinding set-up.
    for (const a of addresses) assertAllowedAddress(a, deps.allowPrivate);
  } catch (e) {
    throw new CheckFailure('BLOCKED', (e as BlockedTargetError).message);
  }

  const t0 = performance.now();
  let socket: Socket | undefined;
  let lastError: CheckFailure | undefined;
  for (const address of addresses.slice(0, MAX_ADDRESS_ATTEMPTS)) {
    try {
      socket = await dial(address, port, signal);
      timings.remoteAddress = address;
      break;
    } catch (e) {
      lastError = e as CheckFailure;
      if (signal.aborted || !TRY_NEXT_ADDRESS.has(lastError.code ?? '')) break;
    }
  }
  timings.connect = (timings.connect ?? 0) + (performance.now() - t0);
  if (!socket) throw lastError ?? new CheckFailure('CONNECT', 'no address to connect to');

  if (!dialTo.tls) {
    timings.readyAt = performance.now();
    return socket;
  }
  const t1 = performance.now();
  try {
    const secure = await handshake(socket, host, dialTo.tls, deps.ca, signal);
    timings.readyAt = performance.now();
    timings.certificateValidTo = validTo(secure);
    return secure;
  } finally {
    timings.tls = (timings.tls ?? 0) + (performance.now() - t1);
  }
}

/** notAfter of the peer's leaf certificate, epoch ms (undefined when it has none). */
function validTo(socket: TLSSocket): number | undefined {
  const raw = socket.getPeerCertificate(false)?.valid_to;
  const t = raw ? Date.parse(raw) : NaN;
  return Number.isFinite(t) ? t : undefined;
}

async function resolve(deps: ConnectorDeps, host: string, ctx: ConnectContext): Promise<string[]> {
  const byName = classifyHostname(host);
  if (byName && !isAllowedClass(byName, deps.allowPrivate)) {
    throw new CheckFailure('BLOCKED', `host ${host} is ${byName}`);
  }
  const t0 = performance.now();
  try {
    const answer = await untilAborted(deps.dns.lookup(host), ctx.signal);
    return answer.addresses.map((a) => a.address);
  } catch (e) {
    if (e instanceof DnsLookupError) {
      throw new CheckFailure('DNS', `cannot resolve ${host}: ${e.code}`, e.code);
    }
    throw e;
  } finally {
    ctx.timings.dns = (ctx.timings.dns ?? 0) + (performance.now() - t0);
  }
}

function dial(address: string, port: number, signal: AbortSignal): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    if (signal.aborted) return reject(aborted());
    const socket = tcpConnect({ host: address, port, noDelay: true });
    const onAbort = () => {
      socket.destroy();
      reject(aborted());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      signal.removeEventListener('abort', onAbort);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(
        new CheckFailure('CONNECT', `connect ${address}:${port}: ${e.code ?? e.message}`, e.code),
      );
    });
  });
}

function handshake(
  raw: Socket,
  host: string,
  mode: TlsMode,
  ca: ConnectionOptions['ca'],
  signal: AbortSignal,
): Promise<TLSSocket> {
  return new Promise<TLSSocket>((resolve, reject) => {
    // SNI carries names only; for an IP literal the certificate is matched to the IP.
    const name = mode.servername ?? host;
    const sni = isIP(name) ? {} : { servername: name };
    const socket = tlsConnect({
      socket: raw,
      host: name,
      ...sni,
      ca,
      ...(mode.alpn ? { ALPNProtocols: mode.alpn } : {}),
      rejectUnauthorized: mode.verify,
    });
    const onAbort = () => {
      socket.destroy();
      reject(aborted());
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('secureConnect', () => {
      signal.removeEventListener('abort', onAbort);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(new CheckFailure('TLS', `TLS handshake: ${e.code ?? ''} ${e.message}`.trim(), e.code));
    });
  });
}

function aborted(): CheckFailure {
  return new CheckFailure('TIMEOUT', 'aborted', 'ABORTED');
}

/** The DNS cache query is shared, so it is not cancelled; this check just stops waiting. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(aborted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(aborted());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: Error) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
