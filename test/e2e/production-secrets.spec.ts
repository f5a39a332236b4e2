import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runToExit } from '../support/node-process';

/**
 * A production node (NODE_ENV=production, the compose shape) with a placeholder or
 * low-entropy secret stops before anything else loads: one line, exit 78 (EX_CONFIG).
 */
jest.setTimeout(60_000);

describe('production node with a placeholder secret', () => {
  let dataDir: string;
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'uptime-prod-'))));
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const cluster = {
    NODE_ENV: 'production',
    PEERS: '127.0.0.1:1',
    JWT_SECRET: 'Qz7Lw2Xk9Vb4Nm1Rt6Yp3Hs8Dg5Fj0Ac',
  };

  it.each([
    ['CLUSTER_SECRET', 'change-me-cluster-secret'],
    ['CLUSTER_SECRET', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'],
    ['JWT_SECRET', 'change-me-jwt-secret-at-least-32-characters'],
  ])('%s=%s: exits 78 with one line', async (name, value) => {
    const env = {
      ...cluster,
      CLUSTER_SECRET: 'u8Jq2vLx9TzR4mWc7NbY1eKp5sHd3gFa',
      DATA_DIR: dataDir,
      [name]: value,
    };
    const { code, output } = await runToExit(env);
    const lines = output.trim().split('\n');
    expect({ code, lines }).toEqual({
      code: 78,
      lines: [expect.stringMatching(new RegExp(`^config error: ${name}: refused in production: `))],
    });
    expect(output).not.toContain(value);
  });
});
