/**
 * Every way of starting a validator passes the same runtime flags (src/config/node-flags.ts):
 * a launcher that forgets one runs a node unlike the measured one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_FLAGS } from '@/config/node-flags';

const ROOT = join(__dirname, '..', '..', '..');
const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');

describe('node runtime flags', () => {
  const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;

  it.each(['start', 'start:prod'])('npm run %s passes them', (name) => {
    for (const flag of NODE_FLAGS) expect(scripts[name]).toContain(`node ${flag}`);
  });

  it('the Dockerfile passes them', () => {
    const cmd = read('Dockerfile')
      .split('\n')
      .find((l) => l.startsWith('CMD'));
    for (const flag of NODE_FLAGS) expect(cmd).toContain(JSON.stringify(flag));
  });

  it('the test and bench launchers spread them before the entry point', () => {
    for (const f of ['test/support/node-process.ts', 'scripts/cluster.ts', 'bench/capacity.ts'])
      expect(read(f)).toMatch(/spawn\(\s*process\.execPath,\s*\[\.\.\.NODE_FLAGS, /);
  });
});
