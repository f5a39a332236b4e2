import { z } from 'zod';

/**
 * The one environment schema. Every variable of .env.example is declared here,
 * parsed once at boot (loadConfig) and exposed as the typed AppConfig. A bad
 * value stops the process with one line per variable.
 */

const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], {
      error: 'expected true or false',
    })
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (def: number, min: number, max: number) =>
  z
    .string()
    .default(String(def))
    .refine((v) => /^-?\d+$/.test(v.trim()), { message: `expected an integer in [${min}, ${max}]` })
    .transform((v) => Number(v.trim()))
    .refine((n) => n >= min && n <= max, { message: `expected an integer in [${min}, ${max}]` });

/** An integer variable without a default (undefined when unset). */
const optionalInt = (min: number, max: number) =>
  z
    .string()
    .optional()
    .refine((v) => v === undefined || /^-?\d+$/.test(v.trim()), {
      message: `expected an integer in [${min}, ${max}]`,
    })
    .transform((v) => (v === undefined ? undefined : Number(v.trim())))
    .refine((n) => n === undefined || (n >= min && n <= max), {
      message: `expected an integer in [${min}, ${max}]`,
    });

const ratio = (def: number, minExclusive: number, max: number) =>
  z
    .string()
    .default(String(def))
    .refine((v) => /^\d*\.?\d+$/.test(v.trim()), {
      message: `expected a number in (${minExclusive}, ${max}]`,
    })
    .transform((v) => Number(v.trim()))
    .refine((n) => n > minExclusive && n <= max, {
      message: `expected a number in (${minExclusive}, ${max}]`,
    });

const HOST_PORT =
  /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?):(\d{1,5})$/;

export interface PeerAddress {
  host: string;
  port: number;
  /** host:port as written */
  address: string;
}

function parseHostPort(item: string): PeerAddress | null {
  const m = HOST_PORT.exec(item);
  if (!m) return null;
  const port = Number(m[1]);
  if (port < 1 || port > 65535) return null;
  const host = item.slice(0, item.length - m[1].length - 1).replace(/^\[|\]$/g, '');
  return { host, port, address: item };
}

const hostPortList = (what: string) =>
  z
    .string()
    .default('')
    .transform((raw, ctx) => {
      const items = raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      const out: PeerAddress[] = [];
      for (const item of items) {
        const p = parseHostPort(item);
        if (!p) {
          ctx.addIssue({
            code: 'custom',
            message: `expected a comma-separated list of host:port ${what}, got "${item}"`,
          });
          return z.NEVER;
        }
        out.push(p);
      }
      return out;
    });

const topic = (def: string) =>
  z
    .string()
    .default(def)
    .refine((v) => /^[A-Za-z0-9._-]{1,249}$/.test(v), {
      message: 'expected a Kafka topic name ([A-Za-z0-9._-], at most 249 chars)',
    });

const id = (def: string) =>
  z
    .string()
    .default(def)
    .refine((v) => /^[A-Za-z0-9._-]{1,64}$/.test(v), {
      message: 'expected 1-64 characters of [A-Za-z0-9._-]',
    });

const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()))
    .refine(
      (v) => {
        if (v === undefined) return true;
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      { message: `expected a URL with scheme ${protocols.join(' or ')}` },
    );

/** An http(s) URL with a default, e.g. a provider's API base (tests point it at local servers). */
const baseUrl = (def: string) =>
  z
    .string()
    .default(def)
    .refine(
      (v) => {
        try {
          return ['http:', 'https:'].includes(new URL(v.trim()).protocol);
        } catch {
          return false;
        }
      },
      { message: 'expected an http:// or https:// URL' },
    )
    .transform((v) => v.trim());

const secret = (minLen: number) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? undefined : v))
    .refine((v) => v === undefined || v.length >= minLen, {
      message: `expected at least ${minLen} characters`,
    });

export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(3000, 1, 65535),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: z.string().min(1).default('./.data'),
  DEFAULT_TARGET_URL: optionalUrl(['http:', 'https:']),

  VALIDATOR_ID: id('0'),
  LOCATION: id('local'),
  PEERS: hostPortList('(the other validators)'),
  /** address other nodes use to reach this one; defaults to 127.0.0.1:PORT */
  ADVERTISE_ADDRESS: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === '' || parseHostPort(v) !== null, {
      message: 'expected host:port',
    }),
  PING_INTERVAL_MS: int(60_000, 1_000, 86_400_000),
  PING_TIMEOUT_MS: int(10_000, 100, 120_000),
  PING_CONCURRENCY: int(256, 1, 10_000),
  GOSSIP_ROUNDS: int(1, 0, 16),
  GOSSIP_FANOUT: int(2, 1, 64),
  GOSSIP_INTERVAL_MS: int(200, 10, 60_000),
  QUORUM_THRESHOLD: ratio(0.51, 0.5, 1),
  /** unset: a majority of the registered validators (1 for a cluster of one) */
  MIN_VOTES: optionalInt(1, 1000),
  /** gossip allowance: a round is final at its start + the site's timeout + this */
  TALLY_DEADLINE_MS: int(2_000, 100, 600_000),
  /** base election timeout, drawn from [T, 2T): a dead leader is replaced within ~2T */
  RAFT_ELECTION_TIMEOUT_MS: int(500, 100, 60_000),
  RAFT_HEARTBEAT_MS: int(100, 10, 10_000),
  RAFT_SNAPSHOT_EVERY: int(10_000, 10, 10_000_000),
  /** debug: a directory where each node writes hrtime stamps of every write's path (raft-trace.ts) */
  RAFT_TRACE_DIR: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v)),

  KAFKA_BROKERS: hostPortList('(Kafka brokers)'),
  KAFKA_BROKER: hostPortList('(Kafka brokers; alias of KAFKA_BROKERS)'),
  KAFKA_CLIENT_ID: id('uptime-validator'),
  KAFKA_GROUP_ID: id('uptime-alerts'),
  KAFKA_TOPIC_PARTITIONS: int(6, 1, 1000),
  KAFKA_REPLICATION_FACTOR: int(1, 1, 10),
  VALIDATOR_STATUS_TOPIC: topic('validator-status'),
  HEALTH_LOGS_TOPIC: topic('health-logs'),
  HEALTH_ALERTS_TOPIC: topic('health-alerts'),

  SMTP_HOST: z.string().optional(),
  SMTP_PORT: int(587, 1, 65535),
  SMTP_SECURE: bool(false),
  SMTP_USER: z.string().optional(),
  SMTP_PASS: z.string().optional(),
  MAIL_FROM: z.string().default('Uptime Monitor <alerts@localhost>'),
  PUBLIC_URL: optionalUrl(['http:', 'https:']),

  NOTIFY_SLACK_BASE_URL: baseUrl('https://hooks.slack.com/'),
  NOTIFY_DISCORD_BASE_URL: baseUrl('https://discord.com/api/webhooks/'),
  NOTIFY_TELEGRAM_API_URL: baseUrl('https://api.telegram.org/'),
  NOTIFY_PAGERDUTY_EVENTS_URL: baseUrl('https://events.pagerduty.com/v2/enqueue'),
  NOTIFY_TIMEOUT_MS: int(10_000, 500, 30_000),
  NOTIFY_MAX_CHANNELS_PER_USER: int(20, 1, 1000),
  NOTIFY_CHANNEL_FAILING_AFTER_MS: int(86_400_000, 1_000, 30 * 86_400_000),

  DATABASE_URL: optionalUrl(['postgres:', 'postgresql:']),
  DB_POOL_SIZE: int(10, 1, 200),
  MIGRATE_ON_BOOT: bool(true),
  PING_LOG_RETENTION_DAYS: int(30, 1, 3650),

  CLUSTER_SECRET: secret(16),
  JWT_SECRET: secret(32),
  JWT_TTL_SECONDS: int(3600, 60, 365 * 86_400),
  MAX_SITES_PER_USER: int(1000, 1, 1_000_000),
  ALLOW_PRIVATE_TARGETS: bool(false),
  /** validator ids whose registered Ed25519 key this node may replace without the old key's proof */
  ALLOW_REKEY: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    )
    .refine((ids) => ids.every((i) => /^[A-Za-z0-9._-]{1,64}$/.test(i)), {
      message: 'expected a comma-separated list of validator ids',
    }),
  SHUTDOWN_TIMEOUT_MS: int(8_000, 100, 60_000),

  // --- API keys, /metrics (issue 15) ---
  /** key of the HMAC that stores API keys; unset: derived from JWT_SECRET */
  API_KEY_PEPPER: secret(32),
  MAX_API_KEYS_PER_USER: int(20, 1, 1000),
  /** bearer token /metrics requires; unset and no METRICS_PORT: /metrics refused in production */
  METRICS_TOKEN: secret(16),
  /** serve /metrics on this port only (its own listener), not on PORT */
  METRICS_PORT: optionalInt(1, 65535),
  /** per-site status and latency gauges (label site_id), at most METRICS_PER_SITE_LIMIT sites */
  METRICS_PER_SITE: bool(false),
  METRICS_PER_SITE_LIMIT: int(1000, 1, 20_000),
});

export type Env = z.infer<typeof envSchema>;

export function formatIssues(error: z.ZodError): string[] {
  const byVar = new Map<string, string>();
  for (const issue of error.issues) {
    const key = String(issue.path[0] ?? '(env)');
    if (!byVar.has(key)) byVar.set(key, issue.message);
  }
  return [...byVar.entries()].map(([k, msg]) => `${k}: ${msg}`);
}
