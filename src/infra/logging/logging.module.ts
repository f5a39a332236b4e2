import { DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from '@/config/app-config';

/** Paths pino masks in every log line: credentials never reach the log. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-cluster-signature"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.passwordHash',
  '*.token',
  '*.accessToken',
  '*.secret',
  '*.pass',
];

/** Structured JSON logs (pino), one line per event, request logs included. */
@Module({})
export class LoggingModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          // Nest 11's router wants a named wildcard; the default '*' logs a warning.
          forRoutes: [{ path: '{*splat}', method: RequestMethod.ALL }],
          pinoHttp: {
            level: config.logLevel,
            base: { node: config.node.id, region: config.node.region },
            redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
            // Health probes and node-to-node RPCs are too frequent to log one line each.
            autoLogging: {
              ignore: (req) => {
                const url = req.url ?? '';
                return (
                  url.startsWith('/health') ||
                  url.startsWith('/api/raft') ||
                  url.startsWith('/api/cluster/') ||
                  url.startsWith('/api/simulate/gossip')
                );
              },
            },
            customLogLevel: (_req, res, err) =>
              err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
            serializers: {
              req: (req: { id: unknown; method: string; url: string }) => ({
                id: req.id,
                method: req.method,
                url: maskPushToken(req.url?.split('?')[0]),
              }),
            },
          },
        }),
      ],
    };
  }
}

/** A beat URL carries its push monitor's credential: the log keeps only the route. */
export function maskPushToken(url: string | undefined): string | undefined {
  return url?.replace(/^\/api\/push\/[^/]*/, '/api/push/[redacted]');
}
