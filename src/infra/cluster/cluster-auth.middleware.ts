/**
 * Node-to-node routes authenticate before they read: the signature headers are
 * checked (format, freshness, membership MAC, node binding, replay) before a single
 * body byte is taken; then the declared length is bounded per route and against a
 * budget of body bytes in flight, the body streams into one buffer of exactly that
 * size while it is hashed, and only a body matching its signed digest is parsed
 * (JSON) or handed on raw (req.rawBody, for application/octet-stream).
 * A refused request is answered at once and its body is never read.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ClusterAuth } from './cluster-auth';

/** What the middleware established; ClusterAuthGuard requires it on every cluster route. */
export interface ClusterCaller {
  nodeId: string;
  /** signed with the sender node's own key (not just the cluster secret) */
  bound: boolean;
  /** the sender's registered address (bound requests only) */
  address?: string;
}

export type ClusterRequest = Request & {
  rawBody?: Buffer;
  clusterNode?: string;
  cluster?: ClusterCaller;
};

export interface ClusterRoute {
  /** path prefix, e.g. /api/raft/ */
  prefix: string;
  maxBodyBytes: number;
}

const MB = 1024 * 1024;

/** Every node-to-node route family, with its body bound. */
export const CLUSTER_ROUTES: readonly ClusterRoute[] = [
  { prefix: '/api/raft/', maxBodyBytes: 16 * MB },
  { prefix: '/api/cluster/', maxBodyBytes: 16 * MB },
  { prefix: '/api/simulate/gossip', maxBodyBytes: 4 * MB },
  { prefix: '/api/consensus/', maxBodyBytes: 64 * 1024 },
];

/** Body bytes all cluster requests together may hold in memory at once. */
export const MAX_IN_FLIGHT_BODY_BYTES = 48 * MB;
/** How long an early-refused connection may linger so its peer reads the answer. */
const LINGER_MS = 2_000;

export function clusterRouteOf(path: string): ClusterRoute | undefined {
  return CLUSTER_ROUTES.find(
    (r) => path.startsWith(r.prefix) || `${path}/` === r.prefix || path === r.prefix,
  );
}

export function clusterAuthMiddleware(auth: ClusterAuth) {
  const log = new Logger('ClusterAuth');
  let inFlight = 0;
  let refused = 0;

  return function clusterAuthenticate(req: Request, res: Response, next: NextFunction): void {
    const path = (req.originalUrl ?? req.url).split('?')[0];
    const route = clusterRouteOf(path);
    if (!route) return next();
    const creq = req as ClusterRequest;

    const h = auth.checkHeaders(req.method, path, req.headers);
    if (!h.ok) {
      refused += 1;
      if (refused <= 20 || refused % 1000 === 0)
        log.warn(`refused ${req.method} ${path} from ${req.ip}: ${h.reason} (${refused} so far)`);
      return refuse(req, res, 401, 'UNAUTHENTICATED', `cluster authentication failed: ${h.reason}`);
    }
    const declared = req.headers['content-length'];
    const chunked = req.headers['transfer-encoding'] !== undefined;
    const length = declared === undefined ? 0 : Number(declared);
    if (chunked || length !== h.bodyLength)
      return refuse(
        req,
        res,
        400,
        'VALIDATION_FAILED',
        'content-length must equal the signed body length',
      );
    if (length > route.maxBodyBytes)
      return refuse(
        req,
        res,
        413,
        'PAYLOAD_TOO_LARGE',
        `body larger than ${route.maxBodyBytes} bytes`,
      );
    if (length > 0 && inFlight + length > MAX_IN_FLIGHT_BODY_BYTES)
      return refuse(req, res, 503, 'UNAVAILABLE', 'too many large cluster bodies in flight', 1);

    inFlight += length;
    let released = false;
    const release = () => {
      if (!released) inFlight -= length;
      released = true;
    };
    readExactly(req, length)
      .then((body) => {
        release();
        const digest = createHash('sha256').update(body).digest('hex');
        if (digest !== h.bodySha256)
          return refuse(
            req,
            res,
            401,
            'UNAUTHENTICATED',
            'cluster authentication failed: body does not match its signed digest',
          );
        creq.rawBody = body;
        creq.cluster = {
          nodeId: h.nodeId,
          bound: h.bound,
          ...(h.address ? { address: h.address } : {}),
        };
        creq.clusterNode = h.nodeId;
        // body-parser skips a request whose body was already read.
        (req as { _body?: boolean })._body = true;
        const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
        if (length === 0) req.body = {};
        else if (type === 'application/json') {
          try {
            req.body = JSON.parse(body.toString('utf8'));
          } catch {
            return refuse(req, res, 400, 'BAD_JSON', 'request body is not valid JSON');
          }
        } else if (type === 'application/octet-stream') req.body = body;
        else
          return refuse(
            req,
            res,
            415,
            'UNSUPPORTED_MEDIA_TYPE',
            'expected application/json or application/octet-stream',
          );
        next();
      })
      .catch(() => {
        release();
        // The peer went away or sent a short body: nobody is left to answer.
        req.socket.destroy();
      });
  };
}

function readExactly(req: IncomingMessage, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    const onData = (chunk: Buffer) => {
      if (got + chunk.length > length) return fail(new Error('body longer than declared'));
      chunk.copy(buf, got);
      got += chunk.length;
    };
    const onEnd = () => (got === length ? done(() => resolve(buf)) : fail(new Error('short body')));
    const fail = (e: Error) => done(() => reject(e));
    const done = (fn: () => void) => {
      req.off('data', onData).off('end', onEnd).off('error', fail).off('aborted', onAborted);
      fn();
    };
    const onAborted = () => fail(new Error('aborted'));
    req.on('data', onData).on('end', onEnd).on('error', fail).on('aborted', onAborted);
  });
}

/**
 * Answers in the one error shape and closes the connection without reading the
 * body: the socket stops reading, the answer and a FIN go out, and the connection
 * is dropped once the peer has closed its side or LINGER_MS passed (so it sees the
 * status instead of a reset).
 */
function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  retryAfterSec?: number,
): void {
  const body = JSON.stringify({ statusCode: status, error: code, message });
  const socket = req.socket;
  const unread = !req.complete;
  if (unread) {
    // Node would otherwise read and discard the rest of the body after the answer.
    (req as { _consuming?: boolean })._consuming = true;
    socket.pause();
  }
  res.shouldKeepAlive = false;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
    ...(retryAfterSec !== undefined ? { 'retry-after': String(retryAfterSec) } : {}),
  });
  res.end(body);
  if (!unread) return;
  // After the answer Node closes the connection (destroySoon); with unread bytes in the
  // kernel's buffer that close is a reset, which can overtake the answer. Half-close
  // instead and drop the socket later.
  socket.destroySoon = () => socket.end();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
