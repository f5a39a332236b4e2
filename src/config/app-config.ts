import { envSchema, formatIssues, PeerAddress } from './config.schema';

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
  raft!: { electionTimeoutMs: number; heartbeatMs: number; snapshotEvery: number };
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
  };
  shutdownTimeoutMs!: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
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
  const advertise = e.ADVERTISE_ADDRESS || `127.0.0.1:${e.PORT}`;
  if (e.PEERS.some((p) => p.address === advertise)) {
    problems.push(`PEERS: must list the other nodes only, not this node's own ${advertise}`);
  }
  if (e.MIN_VOTES > e.PEERS.length + 1) {
    problems.push(
      `MIN_VOTES: expected at most the number of validators (${e.PEERS.length + 1}), got ${e.MIN_VOTES}`,
    );
  }
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
      minVotes: e.MIN_VOTES,
      tallyDeadlineMs: e.TALLY_DEADLINE_MS,
    },
    raft: {
      electionTimeoutMs: e.RAFT_ELECTION_TIMEOUT_MS,
      heartbeatMs: e.RAFT_HEARTBEAT_MS,
      snapshotEvery: e.RAFT_SNAPSHOT_EVERY,
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
    },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
  } satisfies AppConfig);
  return cfg;
}
