import { ConfigError, loadConfig } from '@/config/app-config';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('loadConfig', () => {
  it('runs on embedded defaults with an empty environment', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.db.url).toBeUndefined();
    expect(c.kafka.brokers).toEqual([]);
    expect(c.node.peers).toEqual([]);
    expect(c.consensus.quorumThreshold).toBe(0.51);
    expect(c.kafka.topics).toEqual({
      validatorStatus: 'validator-status',
      healthLogs: 'health-logs',
      healthAlerts: 'health-alerts',
    });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PEERS', '::'],
    ['PEERS', 'localhost'],
    ['QUORUM_THRESHOLD', '2'],
    ['QUORUM_THRESHOLD', '0.3'],
    ['PING_INTERVAL_MS', '10'],
    ['DATABASE_URL', 'mysql://x'],
    ['KAFKA_BROKERS', 'kafka'],
    ['SMTP_SECURE', 'maybe'],
    ['HEALTH_LOGS_TOPIC', 'bad topic'],
    ['JWT_SECRET', 'short'],
    ['VALIDATOR_ID', 'has space'],
  ])('%s=%s is refused with a line naming the variable', (name, value) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${name}: expected`));
  });

  it('lists every bad variable, one line each', () => {
    const problems = problemsOf({ PORT: 'abc', PEERS: '::', QUORUM_THRESHOLD: '2' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'PEERS',
      'PORT',
      'QUORUM_THRESHOLD',
    ]);
  });

  it('parses peers and both broker spellings', () => {
    const c = loadConfig({
      PEERS: 'a.example:3001, [::1]:3002',
      CLUSTER_SECRET: 'x'.repeat(16),
      KAFKA_BROKER: 'k1:9092,k2:9092',
      KAFKA_BROKERS: 'k1:9092',
    });
    expect(c.node.peers.map((p) => [p.host, p.port])).toEqual([
      ['a.example', 3001],
      ['::1', 3002],
    ]);
    expect(c.kafka.brokers).toEqual(['k1:9092', 'k2:9092']);
  });

  it('requires CLUSTER_SECRET once there are peers', () => {
    expect(problemsOf({ PEERS: 'b:3001' })).toEqual([
      'CLUSTER_SECRET: required (at least 16 characters) when PEERS is set',
    ]);
  });

  it('refuses MIN_VOTES above the number of validators', () => {
    expect(problemsOf({ MIN_VOTES: '2' })[0]).toMatch(/^MIN_VOTES: expected at most/);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' }).port).toBe(3000);
  });
});
