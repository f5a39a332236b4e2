/**
 * Sends one notification to one channel and says what happened: delivered, or failed with the
 * status code, a cause with every secret of the channel scrubbed out, and whether and when to
 * retry. Never throws. Used by delivery (with its lease) and by "send test notification".
 */
import { Injectable } from '@nestjs/common';
import { AppConfig } from '@/config/app-config';
import { scrub, secretStrings } from './channel-config';
import { NotifyClock } from './notify-clock';
import { NotifyHttp, NotifyHttpError } from './notify-http';
import type { NotifyMessage } from './notify-message';
import { buildRequest, ChannelTarget, interpretResponse } from './provider-requests';

export type SendOutcome =
  | { ok: true; statusCode: number; ms: number }
  | {
      ok: false;
      statusCode: number | null;
      error: string;
      /** transient: 5xx, 429, timeouts, network; client: 4xx; blocked: SSRF guard refused */
      kind: 'transient' | 'client' | 'blocked';
      retryAfterMs?: number;
      /** true when the request may have reached the provider (timeout after sending) */
      ambiguous: boolean;
      ms: number;
    };

@Injectable()
export class ChannelSender {
  constructor(
    private readonly http: NotifyHttp,
    private readonly config: AppConfig,
    private readonly clock: NotifyClock,
  ) {}

  async send(channel: ChannelTarget, message: NotifyMessage): Promise<SendOutcome> {
    const started = performance.now();
    const ms = () => Math.round(performance.now() - started);
    const secrets = secretStrings(channel.secrets);
    let req;
    try {
      req = buildRequest(channel, message, this.config.notify, this.clock.now());
    } catch (e) {
      return fail(
        null,
        `cannot build the request: ${(e as Error).message}`,
        'client',
        ms(),
        secrets,
      );
    }
    try {
      const res = await this.http.post(
        req.url,
        req.headers,
        req.body,
        req.timeoutMs ?? this.config.notify.timeoutMs,
      );
      const verdict = interpretResponse(channel.type, res.status, res.headers, res.body);
      if (verdict.ok) return { ok: true, statusCode: res.status, ms: ms() };
      return {
        ...fail(res.status, verdict.error, verdict.kind, ms(), secrets),
        retryAfterMs: verdict.retryAfterMs,
      };
    } catch (e) {
      const err = e instanceof NotifyHttpError ? e : new NotifyHttpError(String(e), 'network');
      const kind = err.kind === 'blocked' ? 'blocked' : 'transient';
      return { ...fail(null, err.message, kind, ms(), secrets), ambiguous: err.kind === 'timeout' };
    }
  }
}

function fail(
  statusCode: number | null,
  error: string,
  kind: 'transient' | 'client' | 'blocked',
  ms: number,
  secrets: string[],
): Extract<SendOutcome, { ok: false }> {
  return {
    ok: false,
    statusCode,
    error: scrub(error, secrets).slice(0, 1024),
    kind,
    ambiguous: false,
    ms,
  };
}
