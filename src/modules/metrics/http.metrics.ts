/**
 * Duration of every HTTP request by method, route template and status class. The route is
 * Express's matched pattern (`/api/websites/:id`), never the raw path, so ids and junk URLs
 * cannot create series: unmatched requests share route="(unmatched)". Methods outside the
 * standard set are "OTHER". The label set is bounded by the routes the app declares.
 */
import type { NextFunction, Request, Response } from 'express';
import { Histogram, Registry } from 'prom-client';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/**
 * The pattern this middleware is mounted on: when no controller route matched, req.route is
 * still the middleware's own catch-all layer.
 */
const CATCH_ALL = '{*splat}';
const BUCKETS_S = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function httpMetricsMiddleware(
  registry: Registry,
): (req: Request, res: Response, next: NextFunction) => void {
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by method, route template and status class',
    labelNames: ['method', 'route', 'status'],
    buckets: BUCKETS_S,
    registers: [registry],
  });
  return (req, res, next) => {
    const t0 = process.hrtime.bigint();
    res.once('finish', () => {
      const route = (req.route as { path?: unknown } | undefined)?.path;
      duration.observe(
        {
          method: METHODS.has(req.method) ? req.method : 'OTHER',
          route: typeof route === 'string' && !route.endsWith(CATCH_ALL) ? route : '(unmatched)',
          status: `${Math.floor(res.statusCode / 100)}xx`,
        },
        Number(process.hrtime.bigint() - t0) / 1e9,
      );
    });
    next();
  };
}
