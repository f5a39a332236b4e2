import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import type { RaftMessage } from '@/core/raft/raft.messages';
import { DomainError, httpStatusOf } from '@/common/domain-error';
import type { ErrorBody } from '@/common/error-body';
import { parseInput } from '@/common/parse-input';
import type { ClusterRequest } from '@/infra/cluster/cluster-auth.middleware';
import { KvCommand } from './kv.state-machine';
import { decodeFrame, FrameError } from './raft-frame';
import type { RaftHost } from './raft-host';
import { BATCH_PATH } from './raft-transport';

/**
 * The hot Raft routes served by a bare `http` handler ahead of Express: the
 * transport's frames (POST /api/raft/batch) and the cluster kv map's writes
 * and reads, each a few hundred per second per node. They skip Express's
 * router, Nest's pipeline and the per-request log; the host counts them
 * instead (onRequest, for /metrics). Authentication is the same function
 * Express mounts (clusterAuthMiddleware: signature headers before any body
 * byte, the body's digest before parsing), and the batch route still needs
 * a request signed with the sending node's own key, speaking only for itself.
 */

export type ClusterAuthenticate = (req: Request, res: Response, next: NextFunction) => void;

const KV_PATH = '/api/raft/kv';
const KV_READ_PATH = '/api/raft/kv/read';
/** The POST routes this handler serves (Express's router never sees them). */
export const RAFT_HTTP_ROUTES: readonly string[] = [BATCH_PATH, KV_PATH, KV_READ_PATH];

const key = z.string().min(1).max(256);
const kvCommandSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('put'), key, value: z.string().max(65_536) }),
  z.strictObject({ op: z.literal('append'), key, value: z.string().max(65_536) }),
]);
export const kvReadSchema = z.strictObject({ key });

interface Reply {
  status: number;
  body: Buffer | string;
  headers?: Record<string, string>;
}

type Route = (req: ClusterRequest) => Promise<Reply>;

export class RaftHttpHandler {
  private readonly log = new Logger('RaftHttp');
  private readonly routes: ReadonlyMap<string, Route>;

  constructor(
    private readonly host: RaftHost,
    private readonly authenticate: ClusterAuthenticate,
  ) {
    this.routes = new Map<string, Route>([
      [BATCH_PATH, (req) => this.batch(req)],
      [KV_PATH, (req) => this.kvWrite(req)],
      [KV_READ_PATH, (req) => this.kvRead(req)],
    ]);
  }

  /**
   * Puts this handler in front of the server's other request listeners
   * (Express): a request for one of its routes never reaches them.
   */
  mount(server: Server): void {
    const others = server.listeners('request') as ((...args: unknown[]) => void)[];
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const route = req.method === 'POST' ? this.routes.get(req.url ?? '') : undefined;
      if (route) this.serve(route, req, res);
      else for (const l of others) l.call(server, req, res);
    });
  }

  private serve(route: Route, req: IncomingMessage, res: ServerResponse): void {
    const path = req.url!;
    // The middleware only uses what IncomingMessage and ServerResponse have (see its file).
    this.authenticate(req as Request, res as Response, (err?: unknown) => {
      if (err) return this.answer(res, this.errorReply(err));
      route(req as ClusterRequest).then(
        (r) => this.answer(res, r),
        (e: unknown) => this.answer(res, this.errorReply(e)),
      );
    });
    // Counted once answered, also when the middleware refused it.
    res.once('finish', () => this.host.countRequest(path, res.statusCode));
  }

  /** The transport's frame: every message checked before any is stepped; the answer carries ours. */
  private async batch(req: ClusterRequest): Promise<Reply> {
    const caller = req.cluster!;
    if (!caller.bound)
      throw new DomainError(
        'UNAUTHENTICATED',
        `cluster authentication failed: request from ${caller.nodeId} is not signed with that node's own key`,
      );
    const body: unknown = req.body;
    if (!Buffer.isBuffer(body)) {
      this.host.countBadFrame();
      throw new DomainError('VALIDATION_FAILED', 'raft batch must be application/octet-stream');
    }
    let messages: RaftMessage[];
    try {
      messages = decodeFrame(body);
    } catch (e) {
      this.host.countBadFrame();
      if (e instanceof FrameError) throw new DomainError('VALIDATION_FAILED', e.message);
      throw e;
    }
    this.host.receiveBatch(messages, caller.address);
    const reply =
      messages.length === 0
        ? { body: Buffer.alloc(0), headers: {} }
        : await this.host.replyTo(messages[0].from);
    return {
      status: 200,
      body: reply.body,
      headers: { ...reply.headers, 'content-type': 'application/octet-stream' },
    };
  }

  /** Cluster key-value map: a write through the log (leader only). */
  private async kvWrite(req: ClusterRequest): Promise<Reply> {
    const cmd: KvCommand = parseInput(kvCommandSchema, req.body, 'invalid raft request');
    return json(200, await this.host.proposeWhenSettled('kv', cmd));
  }

  /** Linearizable read of the key-value map (ReadIndex). */
  private async kvRead(req: ClusterRequest): Promise<Reply> {
    const { key } = parseInput(kvReadSchema, req.body, 'invalid raft request');
    const value = await this.host.linearizableRead(() => this.host.kv.get(key));
    return json(200, { key, value });
  }

  private errorReply(e: unknown): Reply {
    if (e instanceof DomainError) {
      const body: ErrorBody = {
        statusCode: httpStatusOf(e.code),
        error: e.code,
        message: e.message,
        ...(e.details ? { details: e.details } : {}),
      };
      return json(body.statusCode, body);
    }
    this.log.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    return json(500, { statusCode: 500, error: 'INTERNAL', message: 'internal error' });
  }

  private answer(res: ServerResponse, r: Reply): void {
    if (res.headersSent || res.destroyed) return;
    const body = typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
    res.writeHead(r.status, { ...r.headers, 'content-length': body.length });
    res.end(body);
  }
}

function json(status: number, value: unknown): Reply {
  return {
    status,
    body: JSON.stringify(value),
    headers: { 'content-type': 'application/json; charset=utf-8' },
  };
}
