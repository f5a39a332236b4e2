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

/** Strong values, as an operator would set them in the shell or a .env file. */
const SECRETS = {
  CLUSTER_SECRET: 'u8Jq2vLx9TzR4mWc7NbY1eKp5sHd3gFa',
  JWT_SECRET: 'Qz7Lw2Xk9Vb4Nm1Rt6Yp3Hs8Dg5Fj0Ac',
};

/**
 * Compose's variable interpolation (compose-spec "Interpolation"): $$, $VAR, ${VAR},
 * ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}. The docker engine and
 * compose plugin are not installed here, so the spec's rules are applied directly.
 */
function interpolate(value: string, env: Record<string, string | undefined>): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (whole, name?: string, colon?: string, op?: string, arg?: string, bare?: string) => {
      if (whole === '$$') return '$';
      if (bare) return env[bare] ?? '';
      const v = env[name!];
      const missing = colon === ':' ? v === undefined || v === '' : v === undefined;
      if (op === '?' && missing) throw new Error(`required variable ${name} is missing: ${arg}`);
      if (op === '-' && missing) return arg ?? '';
      return v ?? '';
    },
  );
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
  // What `docker compose up` would hand the node when the operator set SECRETS.
  const substitute = (v: string) => interpolate(String(v), SECRETS);

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

  it('refuses to start without CLUSTER_SECRET and JWT_SECRET (no built-in defaults)', () => {
    const raw = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
    const used = [...raw.matchAll(/\$\{(CLUSTER_SECRET|JWT_SECRET)([^}]*)\}/g)];
    expect(used.length).toBeGreaterThanOrEqual(2);
    // Every use of a secret is ${VAR:?...}: unset or empty stops compose.
    for (const m of used) expect(m[2]).toMatch(/^:\?/);
    for (const [name, svc] of nodes) {
      for (const missing of ['CLUSTER_SECRET', 'JWT_SECRET']) {
        const env = { ...SECRETS, [missing]: undefined };
        const render = () =>
          Object.values(svc.environment ?? {}).map((v) => interpolate(String(v), env));
        expect({ name, missing, render }).toMatchObject({ name, missing });
        expect(render).toThrow(new RegExp(`required variable ${missing} is missing`));
      }
      const empty = () =>
        Object.values(svc.environment ?? {}).map((v) =>
          interpolate(String(v), { ...SECRETS, JWT_SECRET: '' }),
        );
      expect(empty).toThrow(/JWT_SECRET/);
    }
  });

  it('accepts the strong secrets as a production node would (NODE_ENV=production)', () => {
    for (const [, svc] of nodes) {
      const env = Object.fromEntries(
        Object.entries(svc.environment ?? {}).map(([k, v]) => [k, substitute(v)]),
      );
      expect(env.NODE_ENV).toBe('production');
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
