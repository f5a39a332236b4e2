/**
 * The one HTTP client of notification channels, behind the checks' SSRF guard: the URL is
 * checked before dialling (scheme, literal addresses, localhost and metadata names), and the
 * socket connects only to addresses the guarded DNS lookup returned, each of which passed the
 * same address test (so a name re-pointed to a private address after the channel was created
 * is refused at send time). No redirects are followed; bodies read are bounded.
 */
import type { LookupAddress, LookupOptions } from 'node:dns';
import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { Agent, request } from 'undici';
import {
  assertAllowedAddress,
  BlockedTargetError,
  classifyHostname,
  isAllowedClass,
  parseTargetUrl,
} from '@/common/net/ssrf-guard';
import { AppConfig } from '@/config/app-config';
import { DnsCache } from '@/modules/dns/dns-cache';

const MAX_BODY_BYTES = 16 * 1024;

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** the first 16 kB of the body */
  body: string;
}

export class NotifyHttpError extends Error {
  constructor(
    message: string,
    /** blocked: the destination is not allowed; timeout/network: transient */
    readonly kind: 'blocked' | 'timeout' | 'network',
  ) {
    super(message);
    this.name = 'NotifyHttpError';
  }
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** A net.connect `lookup` that resolves through the DNS cache and refuses non-public answers. */
export function guardedLookup(dns: DnsCache, allowPrivate: boolean) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    const byName = classifyHostname(hostname);
    if (byName && !isAllowedClass(byName, allowPrivate)) {
      callback(new BlockedTargetError(`host ${hostname} is ${byName}`, byName), '');
      return;
    }
    dns.lookup(hostname).then(
      (answer) => {
        try {
          // Every address, not only the first: a mixed answer is a rebinding set-up.
          for (const a of answer.addresses) assertAllowedAddress(a.address, allowPrivate);
        } catch (e) {
          callback(e as BlockedTargetError, '');
          return;
        }
        const wanted = answer.addresses.filter(
          (a) => !options.family || a.family === options.family,
        );
        const list = wanted.length > 0 ? wanted : answer.addresses;
        if (list.length === 0) {
          callback(
            Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }),
            '',
          );
        } else if (options.all) {
          callback(
            null,
            list.map((a) => ({ address: a.address, family: a.family })),
          );
        } else {
          callback(null, list[0].address, list[0].family);
        }
      },
      (err: Error) =>
        callback(Object.assign(err, { code: (err as { code?: string }).code ?? 'ENOTFOUND' }), ''),
    );
  };
}

@Injectable()
export class NotifyHttp implements OnModuleDestroy {
  private readonly agent: Agent;
  private readonly allowPrivate: boolean;

  constructor(dns: DnsCache, config: AppConfig) {
    this.allowPrivate = config.ping.allowPrivateTargets;
    this.agent = new Agent({
      connect: { lookup: guardedLookup(dns, this.allowPrivate), timeout: 5_000 },
      connections: 16,
      keepAliveTimeout: 10_000,
      keepAliveMaxTimeout: 30_000,
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.agent.close();
  }

  /** Throws BlockedTargetError for a URL that may not be dialled (checked before any IO). */
  assertDialable(url: string): URL {
    return parseTargetUrl(url, this.allowPrivate);
  }

  async post(
    url: string,
    headers: Record<string, string>,
    body: string,
    timeoutMs: number,
  ): Promise<HttpAnswer> {
    try {
      this.assertDialable(url);
    } catch (e) {
      throw new NotifyHttpError(`destination not allowed: ${(e as Error).message}`, 'blocked');
    }
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const res = await request(url, {
        method: 'POST',
        headers: { 'user-agent': 'uptime-validator-notify/1', ...headers },
        body,
        dispatcher: this.agent,
        signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        const b = chunk as Buffer;
        if (size < MAX_BODY_BYTES) chunks.push(b.subarray(0, MAX_BODY_BYTES - size));
        size += b.length;
        if (size >= MAX_BODY_BYTES) {
          res.body.destroy();
          break;
        }
      }
      return {
        status: res.statusCode,
        headers: res.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
    } catch (e) {
      throw classify(e, signal, timeoutMs);
    }
  }
}

function classify(e: unknown, signal: AbortSignal, timeoutMs: number): NotifyHttpError {
  if (e instanceof NotifyHttpError) return e;
  // The guarded lookup's refusal surfaces as the connect error.
  if (
    e instanceof BlockedTargetError ||
    (e as { cause?: unknown })?.cause instanceof BlockedTargetError
  ) {
    const b = e instanceof BlockedTargetError ? e : (e as { cause: BlockedTargetError }).cause;
    return new NotifyHttpError(`destination not allowed: ${b.message}`, 'blocked');
  }
  if (signal.aborted || /timeout/i.test((e as Error)?.name ?? '')) {
    return new NotifyHttpError(`no answer within ${timeoutMs} ms`, 'timeout');
  }
  const err = e as { code?: string; message?: string };
  return new NotifyHttpError(
    `${err.code ?? 'network error'}: ${err.message ?? String(e)}`,
    'network',
  );
}
