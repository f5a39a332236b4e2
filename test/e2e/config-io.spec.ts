// Import/export of a user's sites and channels over real HTTP against a real PostgreSQL: export
// as YAML and JSON without channel secrets; import creates, updates and leaves alone by name,
// is idempotent, has a dry run that writes nothing, refuses bad documents and quota overruns
// before any write, and goes through the services' SSRF guard; one user's import never touches
// another's data.
import { parse } from 'yaml';
import { createTestApp, signupAndLogin, TestApp } from '../support/app';
import { Api, expectError } from './api-helpers';

jest.setTimeout(120_000);

const SIGNING_SECRET = 'whsec-0123456789abcdef-secretpart123';

describe('config import/export', () => {
  let t: TestApp;
  let api: Api;
  let alice: string;
  let bob: string;

  const importDoc = (token: string, body: unknown, query = '', contentType?: string) =>
    api.call({
      method: 'post',
      path: `/api/import${query}`,
      token,
      body: typeof body === 'string' ? body : body,
      ...(contentType ? { contentType } : {}),
    });
  const exportJson = async (token: string) => {
    const res = await api.get('/api/export?format=json', token);
    expect(res.status).toBe(200);
    return JSON.parse(res.text) as {
      version: number;
      sites: Record<string, unknown>[];
      channels: Record<string, unknown>[];
    };
  };

  beforeAll(async () => {
    t = await createTestApp({
      MAX_SITES_PER_USER: '5',
      // private targets are refused here, so the SSRF guard is live
      ALLOW_PRIVATE_TARGETS: 'false',
    });
    api = new Api(t);
    alice = await signupAndLogin(t, 'alice-io@example.com');
    bob = await signupAndLogin(t, 'bob-io@example.com');
  });
  afterAll(async () => {
    await t?.close();
  });
  afterEach(() => {
    expect(api.seen.filter((s) => s.status >= 500)).toEqual([]);
  });

  const YAML_DOC = `
version: 1
sites:
  - name: home
    url: https://8.8.8.8/
    intervalMs: 60000
    paused: true
  - name: docs
    url: https://1.1.1.1/docs
    intervalMs: 30000
    keyword: Welcome
    expectedStatus: [200, 301]
    paused: true
channels:
  - name: team
    type: WEBHOOK
    settings:
      url: https://8.8.8.8/hook
      signingSecret: ${SIGNING_SECRET}
    defaultKinds: [DOWN]
`;

  it('dry run reports what would change and writes nothing', async () => {
    const res = await importDoc(alice, YAML_DOC, '?dryRun=true', 'application/yaml');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      dryRun: true,
      sites: [
        { name: 'home', action: 'create', changes: [] },
        { name: 'docs', action: 'create', changes: [] },
      ],
      channels: [{ name: 'team', action: 'create', changes: [] }],
    });
    const now = await exportJson(alice);
    expect(now.sites).toEqual([]);
    expect(now.channels).toEqual([]);
  });

  it('imports YAML, and importing it again changes nothing', async () => {
    const first = await importDoc(alice, YAML_DOC, '', 'application/yaml');
    expect(first.status).toBe(200);
    expect(first.body.sites.map((s: { action: string }) => s.action)).toEqual(['create', 'create']);
    const again = await importDoc(alice, YAML_DOC, '', 'application/yaml');
    expect(again.body).toEqual({
      dryRun: false,
      sites: [
        { name: 'home', action: 'unchanged', changes: [] },
        { name: 'docs', action: 'unchanged', changes: [] },
      ],
      channels: [{ name: 'team', action: 'unchanged', changes: [] }],
    });
    expect((await exportJson(alice)).sites).toHaveLength(2);
  });

  it('exports YAML and JSON without channel secrets, and the export imports back unchanged', async () => {
    const yamlRes = await api.get('/api/export', alice);
    expect(yamlRes.status).toBe(200);
    expect(yamlRes.headers['content-type']).toMatch(/^application\/yaml/);
    expect(yamlRes.text).not.toContain('secretpart123');
    const doc = parse(yamlRes.text) as Record<string, unknown>;
    const json = await exportJson(alice);
    expect(doc).toEqual(json);
    expect(JSON.stringify(json)).not.toContain('secretpart123');
    expect(json.sites.find((s) => s.name === 'docs')).toEqual({
      name: 'docs',
      url: 'https://1.1.1.1/docs',
      intervalMs: 30000,
      timeoutMs: 10000,
      expectedStatus: [200, 301],
      keyword: 'Welcome',
      paused: true,
      downAfterRounds: 1,
      upAfterRounds: 1,
      retries: 0,
      retryDelayMs: 0,
    });
    expect(json.channels).toEqual([
      {
        name: 'team',
        type: 'WEBHOOK',
        enabled: true,
        defaultKinds: ['DOWN'],
        settings: { url: 'https://8.8.8.8/hook' },
        secretFields: ['signingSecret', 'headers'],
      },
    ]);
    // The export (without secrets) is itself an importable, idempotent document.
    const back = await importDoc(alice, json);
    expect(back.status).toBe(200);
    expect(
      [...back.body.sites, ...back.body.channels].every(
        (i: { action: string }) => i.action === 'unchanged',
      ),
    ).toBe(true);
  });

  it('updates by name only what differs, and leaves unnamed items alone', async () => {
    const other = await api.call({
      method: 'post',
      path: '/api/websites',
      token: alice,
      body: { url: 'https://9.9.9.9/', name: 'not-in-file', paused: true },
    });
    expect(other.status).toBe(201);
    const doc = {
      version: 1,
      sites: [
        {
          name: 'docs',
          url: 'https://1.1.1.1/docs',
          intervalMs: 120000,
          keyword: 'Welcome',
          expectedStatus: [200, 301],
          paused: true,
        },
      ],
      channels: [
        {
          name: 'team',
          type: 'WEBHOOK',
          settings: { url: 'https://8.8.8.8/hook' },
          defaultKinds: ['DOWN', 'RECOVERED'],
          enabled: false,
        },
      ],
    };
    const dry = await importDoc(alice, doc, '?dryRun=true');
    expect(dry.body).toMatchObject({ dryRun: true });
    expect(dry.body.sites).toEqual([{ name: 'docs', action: 'update', changes: ['intervalMs'] }]);
    expect(dry.body.channels).toEqual([
      { name: 'team', action: 'update', changes: ['defaultKinds', 'enabled'] },
    ]);
    expect((await exportJson(alice)).sites.find((s) => s.name === 'docs')?.intervalMs).toBe(30000);

    expect((await importDoc(alice, doc)).status).toBe(200);
    const after = await exportJson(alice);
    expect(after.sites.find((s) => s.name === 'docs')?.intervalMs).toBe(120000);
    expect(after.sites.map((s) => s.name).sort()).toEqual(['docs', 'home', 'not-in-file']);
    expect(after.channels[0]).toMatchObject({
      enabled: false,
      defaultKinds: ['DOWN', 'RECOVERED'],
    });
  });

  it('refuses bad documents with a clear error and no change', async () => {
    const before = await exportJson(alice);
    const bad: [unknown, string | undefined, number, string][] = [
      ['version: 1\nsites: [ {name: a', 'application/yaml', 400, 'VALIDATION_FAILED'],
      [{ version: 2 }, undefined, 400, 'VALIDATION_FAILED'],
      [
        { version: 1, sites: [{ name: 'x', url: 'ftp://8.8.8.8/' }] },
        undefined,
        400,
        'VALIDATION_FAILED',
      ],
      [{ version: 1, sites: [{ url: 'https://8.8.8.8/' }] }, undefined, 400, 'VALIDATION_FAILED'],
      [
        {
          version: 1,
          sites: [
            { name: 'a', url: 'https://8.8.8.8/' },
            { name: 'a', url: 'https://8.8.4.4/' },
          ],
        },
        undefined,
        400,
        'VALIDATION_FAILED',
      ],
      [
        { version: 1, channels: [{ name: 'new', type: 'SLACK', settings: {} }] },
        undefined,
        400,
        'VALIDATION_FAILED',
      ],
      [
        { version: 1, channels: [{ name: 'team', type: 'DISCORD', settings: {} }] },
        undefined,
        409,
        'CONFLICT',
      ],
      [
        {
          version: 1,
          sites: ['n1', 'n2', 'n3'].map((name, i) => ({
            name,
            url: `https://8.8.${i}.8/`,
            paused: true,
          })),
        },
        undefined,
        422,
        'QUOTA_EXCEEDED',
      ],
      [{ version: 1, extra: true }, undefined, 400, 'VALIDATION_FAILED'],
    ];
    for (const [body, contentType, status, code] of bad) {
      const res = await importDoc(alice, body, '', contentType);
      expectError(res, status, code);
    }
    expect(await exportJson(alice)).toEqual(before);
  });

  it('exports and imports check kinds, idempotent, and updates a changed check', async () => {
    const carol = await signupAndLogin(t, 'carol-io@example.com');
    const doc = {
      version: 1,
      sites: [
        {
          name: 'db',
          url: 'tcp://8.8.8.8:5432',
          intervalMs: 60000,
          paused: true,
          check: { kind: 'tcp' },
        },
        {
          name: 'mx',
          url: 'dns://example.com',
          intervalMs: 60000,
          paused: true,
          check: {
            kind: 'dns',
            recordType: 'MX',
            expected: ['mx.example.com'],
            resolver: '1.1.1.1',
          },
        },
      ],
    };
    expect((await importDoc(carol, doc)).status).toBe(200);
    const exported = await exportJson(carol);
    expect(exported.sites.map((x) => x.check)).toEqual([
      { kind: 'tcp', tls: false },
      {
        kind: 'dns',
        recordType: 'MX',
        expected: ['mx.example.com'],
        match: 'all',
        resolver: '1.1.1.1',
      },
    ]);
    const again = await importDoc(carol, exported);
    expect(again.body.sites.map((i: { action: string }) => i.action)).toEqual([
      'unchanged',
      'unchanged',
    ]);
    const changed = await importDoc(carol, {
      ...doc,
      sites: [{ ...doc.sites[0], check: { kind: 'tcp', tls: true } }],
    });
    expect(changed.body.sites[0]).toMatchObject({ action: 'update', changes: ['check'] });
    const refused = await importDoc(carol, {
      version: 1,
      sites: [
        {
          name: 'bad',
          url: 'dns://example.com',
          intervalMs: 60000,
          check: { kind: 'dns', resolver: '10.0.0.1' },
        },
      ],
    });
    expectError(refused, 422, 'TARGET_NOT_ALLOWED');
  });

  it('shows the token of a push site it creates, once; a re-import keeps the token', async () => {
    const dave = await signupAndLogin(t, 'dave-io@example.com');
    const doc = { version: 1, sites: [{ name: 'backup', check: { kind: 'push', periodS: 300 } }] };
    const first = await importDoc(dave, doc);
    expect(first.status).toBe(200);
    expect(first.body.sites[0]).toMatchObject({ name: 'backup', action: 'create' });
    const token = first.body.sites[0].pushToken as string;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await api.call({ method: 'post', path: `/api/push/${token}` })).status).toBe(200);
    // Exports never carry it; importing the export again changes nothing and shows no token.
    const exported = await exportJson(dave);
    expect(JSON.stringify(exported)).not.toContain(token);
    const again = await importDoc(dave, exported);
    expect(again.body.sites[0]).toEqual({ name: 'backup', action: 'unchanged', changes: [] });
    expect((await api.call({ method: 'get', path: `/api/push/${token}` })).status).toBe(200);
  });

  it('goes through the SSRF guard of the websites service', async () => {
    const res = await importDoc(alice, {
      version: 1,
      sites: [{ name: 'internal', url: 'http://127.0.0.1:9/', paused: true }],
    });
    expectError(res, 422, 'TARGET_NOT_ALLOWED');
    expect(res.body.message).toContain('sites.0');
    expect((await exportJson(alice)).sites.map((s) => s.name)).not.toContain('internal');
  });

  it("imports into the caller's account only", async () => {
    const res = await importDoc(bob, YAML_DOC, '', 'application/yaml');
    expect(res.body.sites.map((s: { action: string }) => s.action)).toEqual(['create', 'create']);
    const alices = await exportJson(alice);
    expect(alices.sites.find((s) => s.name === 'docs')?.intervalMs).toBe(120000);
    expect((await exportJson(bob)).sites).toHaveLength(2);
  });

  it('needs a token, and a read API key cannot import', async () => {
    expectError(await importDoc('', YAML_DOC, '', 'application/yaml'), 401, 'UNAUTHENTICATED');
    const key = await api.call({
      method: 'post',
      path: '/api/api-keys',
      token: alice,
      body: { name: 'io', scope: 'read' },
    });
    expect((await api.get('/api/export', key.body.key)).status).toBe(200);
    expectError(await importDoc(key.body.key, YAML_DOC, '', 'application/yaml'), 403, 'FORBIDDEN');
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await t.http.get('/api/docs-json')).body as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/export', '/api/import', '/metrics']),
    );
  });
});
