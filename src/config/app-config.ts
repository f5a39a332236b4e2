import { envSchema, formatIssues, PeerAddress } from './config.schema';
import { weakSecretReason } from './secret-strength';

/** The typed configuration every provider receives (inject `AppConfig`). */
export class AppConfig {
  nodeEnv!: 'development' | 'production' | 'test';
  port!: number;
  host!: string;
  logLevel!: string;
  dataDir!: string;
  node!: {
    id: string;
    region: string;
    peers: PeerAddress[];
    advertiseAddress: string;
  };
  ping!: {
    intervalMs: number;
    timeoutMs: number;
    concurrency: number;
    defaultTargetUrl?: string;
    allowPrivateTargets: boolean;
  };
  gossip!: { rounds: number; fanout: number; intervalMs: number };
  consensus!: { quorumThreshold: number; minVotes: number; tallyDeadlineMs: number };
  raft!: {
    electionTimeoutMs: number;
    heartbeatMs: number;
    snapshotEvery: number;
    /** debug: per-write timeline stamps go here (raft-trace.ts) */
    traceDir?: string;
  };
  kafka!: {
    /** empty: the in-process event bus is used */
    brokers: string[];
    clientId: string;
    groupId: string;
    partitions: number;
    replicationFactor: number;
    topics: { validatorStatus: string; healthLogs: string; healthAlerts: string };
  };
  mail!: {
    /** undefined: e-mails are logged, not sent */
    host?: string;
    port: number;
    secure: boolean;
    user?: string;
    pass?: string;
    from: string;
    publicUrl: string;
  };
  notify!: {
    /** provider endpoints (defaults: the public services); Slack and Discord webhook URLs must start with theirs */
    slackBaseUrl: string;
    discordBaseUrl: string;
    telegramApiUrl: string;
    pagerDutyEventsUrl: string;
    /** default timeout of one outbound notification request */
    timeoutMs: number;
    maxChannelsPerUser: number;
    /** a channel failing this long without a success is marked FAILING */
    channelFailingAfterMs: number;
  };
  db!: {
    /** undefined: embedded PostgreSQL (PGlite) under dataDir */
    url?: string;
    poolSize: number;
    migrateOnBoot: boolean;
    pingLogRetentionDays: number;
  };
  security!: {
    /** undefined until resolveSecrets() fills it (generated for a single node) */
    clusterSecret?: string;
    jwtSecret?: string;
    jwtTtlSeconds: number;
    /** validator ids whose key may be replaced without proof from the old key (ALLOW_REKEY) */
    allowRekey: string[];
  };
  quotas!: {
    /** MAX_SITES_PER_USER */
    sitesPerUser: number;
  };
  shutdownTimeoutMs!: number;

  // --- API keys, /metrics (issue 15) ---
  apiKeys!: {
    /** HMAC key of stored API keys; undefined: derived from JWT_SECRET by resolveSecrets() */
    pepper?: string;
    maxPerUser: number;
  };
  metrics!: {
    /** bearer token /metrics requires */
    token?: string;
    /** a separate listener for /metrics (then not served on PORT) */
    port?: number;
    perSite: boolean;
    perSiteLimit: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * A production node never runs on a secret anyone could guess: generate one with
 * `openssl rand -base64 32`. Unset secrets are fine for a single node (generated).
 */
function weakSecretProblems(e: {
  CLUSTER_SECRET?: string;
  JWT_SECRET?: string;
  API_KEY_PEPPER?: string;
}): string[] {
  const out: string[] = [];
  for (const [name, value] of [
    ['CLUSTER_SECRET', e.CLUSTER_SECRET],
    ['JWT_SECRET', e.JWT_SECRET],
    ['API_KEY_PEPPER', e.API_KEY_PEPPER],
  ] as const) {
    const why = value === undefined ? null : weakSecretReason(value);
    if (why)
      out.push(`${name}: refused in production: ${why}; generate one with openssl rand -base64 32`);
  }
  return out;
}

/** The metrics token is a secret too; /metrics needs a port of its own. */
function keyAndMetricsProblems(e: {
  NODE_ENV: string;
  PORT: number;
  METRICS_PORT?: number;
  METRICS_TOKEN?: string;
}): string[] {
  const out: string[] = [];
  if (e.METRICS_PORT !== undefined && e.METRICS_PORT === e.PORT)
    out.push(`METRICS_PORT: must differ from PORT (${e.PORT})`);
  if (e.NODE_ENV === 'production' && e.METRICS_TOKEN) {
    const why = weakSecretReason(e.METRICS_TOKEN);
    if (why) out.push(`METRICS_TOKEN: refused in production: ${why}`);
  }
  return out;
}

/** Parses the environment once. Throws ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  // Empty strings mean "unset", as in most .env loaders.
  const cleaned: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') cleaned[k] = v;

  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error));
  const e = parsed.data;

  const problems: string[] = [];
  const brokers = [...e.KAFKA_BROKERS, ...e.KAFKA_BROKER].map((b) => b.address);
  if (e.PEERS.length > 0 && !e.CLUSTER_SECRET) {
    problems.push('CLUSTER_SECRET: required (at least 16 characters) when PEERS is set');
  }
  if (e.NODE_ENV === 'production' && e.PEERS.length > 0 && !e.JWT_SECRET) {
    problems.push('JWT_SECRET: required (at least 32 characters) in production clusters');
  }
  if (e.NODE_ENV === 'production') problems.push(...weakSecretProblems(e));
  const advertise = e.ADVERTISE_ADDRESS || `127.0.0.1:${e.PORT}`;
  if (e.PEERS.some((p) => p.address === advertise)) {
    problems.push(`PEERS: must list the other nodes only, not this node's own ${advertise}`);
  }
  const validators = e.PEERS.length + 1;
  // A majority of the registered validators: one validator alone never decides a cluster's verdict.
  const minVotes = e.MIN_VOTES ?? Math.floor(validators / 2) + 1;
  if (minVotes > validators) {
    problems.push(
      `MIN_VOTES: ${minVotes} can never be reached by ${validators} validator${validators === 1 ? '' : 's'} (PEERS + this node); expected at most ${validators}`,
    );
  }
  problems.push(...keyAndMetricsProblems(e));
  if (problems.length > 0) throw new ConfigError(problems);

  const cfg = new AppConfig();
  Object.assign(cfg, {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    dataDir: e.DATA_DIR,
    node: { id: e.VALIDATOR_ID, region: e.LOCATION, peers: e.PEERS, advertiseAddress: advertise },
    ping: {
      intervalMs: e.PING_INTERVAL_MS,
      timeoutMs: e.PING_TIMEOUT_MS,
      concurrency: e.PING_CONCURRENCY,
      defaultTargetUrl: e.DEFAULT_TARGET_URL,
      allowPrivateTargets: e.ALLOW_PRIVATE_TARGETS,
    },
    gossip: { rounds: e.GOSSIP_ROUNDS, fanout: e.GOSSIP_FANOUT, intervalMs: e.GOSSIP_INTERVAL_MS },
    consensus: {
      quorumThreshold: e.QUORUM_THRESHOLD,
      minVotes,
      tallyDeadlineMs: e.TALLY_DEADLINE_MS,
    },
    raft: {
      electionTimeoutMs: e.RAFT_ELECTION_TIMEOUT_MS,
      heartbeatMs: e.RAFT_HEARTBEAT_MS,
      snapshotEvery: e.RAFT_SNAPSHOT_EVERY,
      ...(e.RAFT_TRACE_DIR ? { traceDir: e.RAFT_TRACE_DIR } : {}),
    },
    kafka: {
      brokers: [...new Set(brokers)],
      clientId: e.KAFKA_CLIENT_ID,
      groupId: e.KAFKA_GROUP_ID,
      partitions: e.KAFKA_TOPIC_PARTITIONS,
      replicationFactor: e.KAFKA_REPLICATION_FACTOR,
      topics: {
        validatorStatus: e.VALIDATOR_STATUS_TOPIC,
        healthLogs: e.HEALTH_LOGS_TOPIC,
        healthAlerts: e.HEALTH_ALERTS_TOPIC,
      },
    },
    mail: {
      host: e.SMTP_HOST,
      port: e.SMTP_PORT,
      secure: e.SMTP_SECURE,
      user: e.SMTP_USER,
      pass: e.SMTP_PASS,
      from: e.MAIL_FROM,
      publicUrl: e.PUBLIC_URL ?? `http://localhost:${e.PORT}`,
    },
    notify: {
      slackBaseUrl: e.NOTIFY_SLACK_BASE_URL,
      discordBaseUrl: e.NOTIFY_DISCORD_BASE_URL,
      telegramApiUrl: e.NOTIFY_TELEGRAM_API_URL,
      pagerDutyEventsUrl: e.NOTIFY_PAGERDUTY_EVENTS_URL,
      timeoutMs: e.NOTIFY_TIMEOUT_MS,
      maxChannelsPerUser: e.NOTIFY_MAX_CHANNELS_PER_USER,
      channelFailingAfterMs: e.NOTIFY_CHANNEL_FAILING_AFTER_MS,
    },
    db: {
      url: e.DATABASE_URL,
      poolSize: e.DB_POOL_SIZE,
      migrateOnBoot: e.MIGRATE_ON_BOOT,
      pingLogRetentionDays: e.PING_LOG_RETENTION_DAYS,
    },
    security: {
      clusterSecret: e.CLUSTER_SECRET,
      jwtSecret: e.JWT_SECRET,
      jwtTtlSeconds: e.JWT_TTL_SECONDS,
      allowRekey: e.ALLOW_REKEY,
    },
    quotas: { sitesPerUser: e.MAX_SITES_PER_USER },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    apiKeys: { pepper: e.API_KEY_PEPPER, maxPerUser: e.MAX_API_KEYS_PER_USER },
    metrics: {
      token: e.METRICS_TOKEN,
      port: e.METRICS_PORT,
      perSite: e.METRICS_PER_SITE,
      perSiteLimit: e.METRICS_PER_SITE_LIMIT,
    },
  } satisfies AppConfig);
  return cfg;
}
