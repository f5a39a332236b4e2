import type { Server } from 'node:http';
import { INestApplication, Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { json, NextFunction, Request, RequestHandler, Response } from 'express';
import { Logger } from 'nestjs-pino';
import { cleanupOpenApiDoc } from 'nestjs-zod';
import { AppModule } from './app.module';
import { DomainError } from './common/domain-error';
import { AppConfig } from './config/app-config';
import { resolveSecrets } from './config/secrets';
import { ClusterAuth } from './infra/cluster/cluster-auth';
import { clusterAuthMiddleware } from './infra/cluster/cluster-auth.middleware';
import { alertsKafkaMicroservice } from './modules/alerts/alerts-kafka.transport';
import { RaftHost } from './modules/raft/raft-host';
import { ClusterStreams } from './infra/cluster/cluster-stream';
import { type ClusterAuthenticate, RaftHttpHandler } from './modules/raft/raft-http.handler';
import { closeRaftStreams, RaftStreamHandler } from './modules/raft/raft-stream.handler';
import { closeRealtimeConnections } from './modules/realtime/realtime.publisher';
import { serveWebApp } from './modules/web-app/serve-web-app';

/**
 * Builds the Nest application for a parsed config. Used by main.ts and by the
 * e2e tests, so both run exactly the same wiring.
 */
export async function createApp(config: AppConfig): Promise<INestApplication> {
  await resolveSecrets(config);
  const app = await NestFactory.create(AppModule.forRoot(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  // Socket.IO on /socket.io/ of the HTTP server; the plain WebSocket (/ws) attaches itself.
  app.useWebSocketAdapter(new IoAdapter(app));
  // Node-to-node routes authenticate from the headers before any body byte is read,
  // then read a bounded body and verify it before parsing (clusterAuthMiddleware).
  // Everything else: bounded JSON bodies, so nothing a client sends exhausts memory.
  const authenticate = clusterAuthMiddleware(app.get(ClusterAuth));
  mountRaftHttp(app, authenticate);
  app.use(authenticate);
  app.use(skipBodyOn(PUSH_PATH, json({ limit: '256kb' })));
  app.use(bodyErrorsAsDomainErrors);
  // The dashboard at `/`: before Nest's routes, leaving /api, /health, /socket.io and /ws alone.
  serveWebApp(app);
  app.setGlobalPrefix('api', { exclude: ['health/live', 'health/ready', 'metrics'] });
  setupOpenApi(app);
  if (config.kafka.brokers.length > 0) {
    // Hybrid app: the alert consumer group joins after init, once the topics exist.
    app.connectMicroservice(alertsKafkaMicroservice(config));
    await app.init();
    await app.startAllMicroservices();
  }
  return app;
}

/** Raft's hot routes ahead of Express, and its peer streams, in an app that hosts Raft. */
function mountRaftHttp(app: INestApplication, authenticate: ClusterAuthenticate): void {
  let raft: RaftHost;
  try {
    raft = app.get(RaftHost, { strict: false });
  } catch {
    return;
  }
  const server = app.getHttpServer() as Server;
  new RaftHttpHandler(raft, authenticate).mount(server);
  // The peers' streams (GET /api/raft/stream, Upgrade), ahead of Socket.IO and /ws.
  new RaftStreamHandler(raft, app.get(ClusterStreams)).mount(server);
}

export function setupOpenApi(app: INestApplication): void {
  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Uptime validator')
      .setDescription(
        'Validators in several regions check websites, vote, and commit verdicts through Raft.',
      )
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('api/docs', app, cleanupOpenApiDoc(doc), {
    jsonDocumentUrl: 'api/docs-json',
    useGlobalPrefix: false,
  });
}

/**
 * SIGTERM/SIGINT: stop accepting, let in-flight requests finish, close modules
 * (Kafka, DB) in reverse order, exit 0. A hard deadline bounds it.
 */
export function installShutdown(app: INestApplication, config: AppConfig): void {
  const log = new NestLogger('Shutdown');
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    log.log(`${signal} received: draining`);
    const deadline = setTimeout(() => {
      log.error(`shutdown exceeded ${config.shutdownTimeoutMs} ms: forcing exit`);
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    // A leader hands over first, while it can still hear its followers (the HTTP server is open).
    handOver(app, Math.min(2_000, config.shutdownTimeoutMs / 4))
      .then(() => drainHttp(app))
      .then(() => app.close())
      .then(() => {
        log.log('closed cleanly');
        process.exit(0);
      })
      .catch((e: unknown) => {
        log.error(`error while closing: ${(e as Error).message}`);
        process.exit(1);
      });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** The Raft leader's handover, if this app hosts Raft at all; never fails the shutdown. */
async function handOver(app: INestApplication, timeoutMs: number): Promise<void> {
  let raft: RaftHost;
  try {
    raft = app.get(RaftHost, { strict: false });
  } catch {
    return;
  }
  await raft.handOverLeadership(timeoutMs).catch(() => null);
}

/**
 * Stops accepting connections and waits for in-flight requests. Keep-alive
 * sockets are closed as soon as they go idle, so a busy client can't hold the
 * process open; Nest's close() then shuts the modules down (Kafka, DB last).
 */
function drainHttp(app: INestApplication): Promise<void> {
  const server = app.getHttpServer() as Server;
  // Upgraded (WebSocket) connections would hold server.close() open until the deadline.
  closeRealtimeConnections(server);
  closeRaftStreams(server);
  return new Promise<void>((resolve) => {
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    server.close(() => {
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * A heartbeat's credential is its path (/api/push/:token) and its body means nothing: the
 * body is never read there, so an unauthenticated caller cannot make the node parse
 * anything (Node discards what is left unread once the answer is sent).
 */
const PUSH_PATH = '/api/push/';

function skipBodyOn(prefix: string, parser: RequestHandler): RequestHandler {
  return (req, res, next) => (req.path.startsWith(prefix) ? next() : parser(req, res, next));
}

/** body-parser failures become coded errors before Nest turns them into generic 400s. */
function bodyErrorsAsDomainErrors(
  err: unknown,
  _req: Request,
  _res: Response,
  next: NextFunction,
): void {
  const type = (err as { type?: unknown } | null)?.type;
  if (type === 'entity.parse.failed')
    return next(new DomainError('BAD_JSON', 'request body is not valid JSON'));
  if (type === 'entity.too.large')
    return next(new DomainError('PAYLOAD_TOO_LARGE', 'request body too large'));
  if (typeof type === 'string')
    return next(new DomainError('VALIDATION_FAILED', `unreadable request body (${type})`));
  next(err);
}
