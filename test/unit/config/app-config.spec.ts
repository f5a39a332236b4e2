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

  it('refuses MIN_VOTES above the number of validators, in one line', () => {
    expect(problemsOf({ MIN_VOTES: '2' })).toEqual([
      'MIN_VOTES: 2 can never be reached by 1 validator (PEERS + this node); expected at most 1',
    ]);
    const three = { PEERS: 'b:3001,c:3002', CLUSTER_SECRET: 'x'.repeat(16) };
    expect(problemsOf({ ...three, MIN_VOTES: '5' })).toEqual([
      'MIN_VOTES: 5 can never be reached by 3 validators (PEERS + this node); expected at most 3',
    ]);
  });

  it('MIN_VOTES defaults to a majority of the registered validators (1 for a node alone)', () => {
    const peers = (n: number) => ({
      PEERS: Array.from({ length: n }, (_, i) => `p${i}:300${i}`).join(','),
      CLUSTER_SECRET: 'x'.repeat(16),
    });
    expect(loadConfig({}).consensus.minVotes).toBe(1);
    expect(loadConfig(peers(1)).consensus.minVotes).toBe(2);
    expect(loadConfig(peers(2)).consensus.minVotes).toBe(2);
    expect(loadConfig(peers(4)).consensus.minVotes).toBe(3);
    expect(loadConfig({ ...peers(2), MIN_VOTES: '1' }).consensus.minVotes).toBe(1);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' }).port).toBe(3000);
  });
});

describe('production secrets', () => {
  const strong = 'u8Jq2vLx9TzR4mWc7NbY1eKp5sHd3gFa';
  const base = { NODE_ENV: 'production', PEERS: 'b:3001', JWT_SECRET: strong };

  it.each([
    ['change-me-cluster-secret', /placeholder \(contains "change-me"\)/],
    ['my-test-cluster-key-0123456789', /placeholder \(contains "test"\)/],
    ['xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', /one repeated character/],
    ['abababababababababababababababab', /short repeated pattern/],
    ['correcthorsebatterystaple', /too little entropy/],
    ['7391046285173920', /too little entropy/],
  ])('refuses CLUSTER_SECRET=%s with one line', (value, why) => {
    const problems = problemsOf({ ...base, CLUSTER_SECRET: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^CLUSTER_SECRET: refused in production: /);
    expect(problems[0]).toMatch(why);
    expect(problems[0]).not.toContain(value);
  });

  it('refuses the old compose JWT default too', () => {
    const problems = problemsOf({
      ...base,
      CLUSTER_SECRET: strong,
      JWT_SECRET: 'change-me-jwt-secret-at-least-32-characters',
    });
    expect(problems).toEqual([expect.stringMatching(/^JWT_SECRET: refused in production/)]);
  });

  it('accepts random secrets in production and anything long enough in development', () => {
    expect(problemsOf({ ...base, CLUSTER_SECRET: 'Zk3Vn8Qw1Lp6Xr0Bt5Hy9Jm2Sd7Fg4Ca' })).toEqual([]);
    expect(problemsOf({ PEERS: 'b:3001', CLUSTER_SECRET: 'change-me-cluster-secret' })).toEqual([]);
  });
});
