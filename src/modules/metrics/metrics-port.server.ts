/**
 * With METRICS_PORT, /metrics on a listener of its own (HOST:METRICS_PORT), so it can be kept
 * on an internal network while PORT faces users. Only GET /metrics is answered there.
 */
import { createServer, Server } from 'node:http';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@/config/app-config';
import { DomainError, httpStatusOf } from '@/common/domain-error';
import { MetricsService } from './metrics.service';

@Injectable()
export class MetricsPortServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('Metrics');
  private server?: Server;

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const port = this.config.metrics.port;
    if (port === undefined) return;
    const server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (req.method !== 'GET' || path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
        return;
      }
      this.metrics.scrape('metrics-port', req.headers.authorization).then(
        (text) => res.writeHead(200, { 'content-type': this.metrics.contentType }).end(text),
        (e: unknown) => {
          const status = e instanceof DomainError ? httpStatusOf(e.code) : 500;
          const message = e instanceof DomainError ? e.message : 'internal error';
          res.writeHead(status, { 'content-type': 'text/plain' }).end(`${message}\n`);
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.config.host, () => resolve());
    });
    this.server = server;
    this.log.log(`metrics on ${this.config.host}:${port}/metrics`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
