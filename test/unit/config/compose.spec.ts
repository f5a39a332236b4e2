import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { envSchema } from '@/config/config.schema';
import { loadConfig } from '@/config/app-config';

const root = join(__dirname, '..', '..', '..');

interface ComposeService {
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
}

/** docker-compose.yml cannot run here; this keeps it consistent with the config schema. */
describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), {
    merge: true,
  }) as {
    services: Record<string, ComposeService>;
  };
  const nodes = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);
  const known = new Set(Object.keys(envSchema.shape));
  // ${VAR:-default} is what compose substitutes when VAR is unset.
  const substitute = (v: string) => String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');

  it('has three validators in three regions and the alert service', () => {
    const regions = nodes.map(([, s]) => s.environment?.LOCATION).filter(Boolean);
    expect(nodes.map(([n]) => n).sort()).toEqual([
      'alerts',
      'validator-1',
      'validator-2',
      'validator-3',
    ]);
    expect(new Set(regions).size).toBeGreaterThanOrEqual(3);
  });

  it.each(['postgres', 'kafka', 'mailpit'])('has the %s service', (name) => {
    expect(compose.services[name]).toBeDefined();
  });

  it('sets only variables the schema knows, with values it accepts', () => {
    for (const [name, svc] of nodes) {
      const env = Object.fromEntries(
        Object.entries(svc.environment ?? {}).map(([k, v]) => [k, substitute(v)]),
      );
      expect({ name, unknown: Object.keys(env).filter((k) => !known.has(k)) }).toEqual({
        name,
        unknown: [],
      });
      expect(() => loadConfig(env)).not.toThrow();
    }
  });

  it('lists every validator as a peer of the others', () => {
    const validators = nodes.filter(([n]) => n.startsWith('validator-'));
    for (const [, svc] of validators) {
      const cfg = loadConfig(
        Object.fromEntries(Object.entries(svc.environment!).map(([k, v]) => [k, substitute(v)])),
      );
      const others = validators
        .map(([, s]) => s.environment!.ADVERTISE_ADDRESS)
        .filter((a) => a !== cfg.node.advertiseAddress);
      expect(cfg.node.peers.map((p) => p.address).sort()).toEqual(others.sort());
    }
  });

  it('documents every schema variable in .env.example and the README', () => {
    const example = readFileSync(join(root, '.env.example'), 'utf8');
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const declared = new Set([...example.matchAll(/^([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
    for (const key of known) {
      expect({ key, inExample: declared.has(key) }).toEqual({ key, inExample: true });
      expect({ key, inReadme: readme.includes(`\`${key}\``) }).toEqual({ key, inReadme: true });
    }
  });
});
