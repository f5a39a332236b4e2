import {
  DynamicModule,
  Injectable,
  MiddlewareConsumer,
  Module,
  ModuleMetadata,
  NestMiddleware,
  NestModule,
  RequestMethod,
} from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { MetricsController } from './metrics.controller';
import { MetricsPortServer } from './metrics-port.server';
import { MetricsRegistry } from './metrics.registry';
import { MetricsService } from './metrics.service';

@Injectable()
class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: MetricsService) {}

  use(req: Request, res: Response, next: NextFunction): void {
    this.metrics.http(req, res, next);
  }
}

export interface MetricsModuleOptions {
  /**
   * The modules that export PingMetrics, GossipMetrics, AlertMetrics, TallyService,
   * DecisionProjector and SiteStatusMachine: the same module objects the app imports, so
   * no second instance of any of them is built.
   */
  imports: ModuleMetadata['imports'];
}

/** GET /metrics: the node's one Prometheus registry (see MetricsService for access rules). */
@Module({})
export class MetricsModule implements NestModule {
  static forRoot(options: MetricsModuleOptions): DynamicModule {
    return {
      module: MetricsModule,
      imports: options.imports ?? [],
      controllers: [MetricsController],
      providers: [MetricsRegistry, MetricsService, MetricsPortServer, HttpMetricsMiddleware],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(HttpMetricsMiddleware)
      .forRoutes({ path: '{*splat}', method: RequestMethod.ALL });
  }
}
