// The API key and /metrics variables: defaults, one clear line per bad value, production rules,
// and the pepper derived from JWT_SECRET when API_KEY_PEPPER is unset.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '@/config/app-config';
import { resolveSecrets } from '@/config/secrets';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('API key and metrics configuration', () => {
  it('has safe defaults', () => {
    const c = loadConfig({});
    expect(c.apiKeys).toEqual({ pepper: undefined, maxPerUser: 20 });
    expect(c.metrics).toEqual({
      token: undefined,
      port: undefined,
      perSite: false,
      perSiteLimit: 1000,
    });
  });

  it.each([
    ['MAX_API_KEYS_PER_USER', '0', 'MAX_API_KEYS_PER_USER: expected an integer in [1, 1000]'],
    ['MAX_API_KEYS_PER_USER', 'many', 'MAX_API_KEYS_PER_USER: expected an integer in [1, 1000]'],
    ['API_KEY_PEPPER', 'short', 'API_KEY_PEPPER: expected at least 32 characters'],
    ['METRICS_TOKEN', 'short', 'METRICS_TOKEN: expected at least 16 characters'],
    ['METRICS_PORT', '0', 'METRICS_PORT: expected an integer in [1, 65535]'],
    ['METRICS_PORT', '9090x', 'METRICS_PORT: expected an integer in [1, 65535]'],
    ['METRICS_PORT', '3000', 'METRICS_PORT: must differ from PORT (3000)'],
    ['METRICS_PER_SITE', 'maybe', 'METRICS_PER_SITE: expected true or false'],
    [
      'METRICS_PER_SITE_LIMIT',
      '20001',
      'METRICS_PER_SITE_LIMIT: expected an integer in [1, 20000]',
    ],
  ])('%s=%s is refused with one clear line', (key, value, line) => {
    expect(problemsOf({ [key]: value })).toEqual([line]);
  });

  it('refuses placeholder secrets in production', () => {
    const problems = problemsOf({
      NODE_ENV: 'production',
      API_KEY_PEPPER: 'change-me-change-me-change-me-change-me',
      METRICS_TOKEN: 'example-metrics-token',
    });
    expect(problems.some((p) => p.startsWith('API_KEY_PEPPER: refused in production'))).toBe(true);
    expect(problems.some((p) => p.startsWith('METRICS_TOKEN: refused in production'))).toBe(true);
  });

  it('derives the pepper from JWT_SECRET unless API_KEY_PEPPER is set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uptime-cfg-'));
    try {
      const jwt = randomBytes(32).toString('base64');
      const a = loadConfig({ DATA_DIR: dir, JWT_SECRET: jwt });
      const b = loadConfig({ DATA_DIR: dir, JWT_SECRET: jwt });
      const c = loadConfig({ DATA_DIR: dir, JWT_SECRET: randomBytes(32).toString('base64') });
      const own = randomBytes(32).toString('base64');
      const d = loadConfig({ DATA_DIR: dir, JWT_SECRET: jwt, API_KEY_PEPPER: own });
      for (const cfg of [a, b, c, d]) await resolveSecrets(cfg);
      expect(a.apiKeys.pepper).toBe(b.apiKeys.pepper); // every node with this JWT_SECRET agrees
      expect(a.apiKeys.pepper).not.toBe(c.apiKeys.pepper);
      expect(a.apiKeys.pepper).not.toContain(jwt);
      expect(d.apiKeys.pepper).toBe(own);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
