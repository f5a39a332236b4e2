// Property-based fuzzing of every route (issue 12, acceptance 1). The operations come from the
// OpenAPI document (/api/docs-json, generated from the zod schemas) plus the node-to-node routes
// the document leaves out, read from the HTTP router, so routes added later are fuzzed without
// editing this file. Each request mixes valid and broken path ids, queries, bodies, user
// tokens and cluster signatures. Properties: no 5xx, ever; a rejected request (4xx) changes
// no data (users, sites, validators, Raft term); the node is alive at the end. The peers'
// stream route (GET /api/raft/stream, HTTP Upgrade) is fuzzed on raw connections: only an
// upgrade signed with the peer's own key opens it, and fuzzed bytes on it change nothing.
// Replay a failure with the seed fast-check prints: FUZZ_SEED=<seed> FUZZ_RUNS=<n>.
import { generateKeyPairSync } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { Pool } from 'undici';
import { ClusterAuth } from '@/infra/cluster/cluster-auth';
import { clusterRouteOf } from '@/infra/cluster/cluster-auth.middleware';
import { PrismaService } from '@/infra/database/prisma.service';
import { publicKeyToBase64, signBytes } from '@/modules/gossip/ed25519';
import { joinClaimBytes, ValidatorIdentity } from '@/modules/gossip/validator-identity';
import { RaftHost } from '@/modules/raft/raft-host';
import { RAFT_HTTP_ROUTES } from '@/modules/raft/raft-http.handler';
import { STREAM_PROTOCOL } from '@/infra/cluster/cluster-stream';
import { STREAM_PATH } from '@/modules/raft/raft-stream.link';
import { createTestApp, TestApp } from '../support/app';
import { Api, badTokens } from './api-helpers';
import { anyJson, Schema, SchemaArbitraries } from './fuzz/schema-arbitrary';

// Measured under load from other jobs: 500 requests took 15 s (load 6); 10,000 did not finish
// within 300 s at load 15. Bounded generously so a loaded machine still completes.
jest.setTimeout(1_200_000);

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
/** requests sent at once per property run */
const BATCH = 8;
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const SECRET = 'fuzz-cluster-secret-0123456789abcdef';
const METHODS = ['get', 'post', 'put', 'delete', 'patch'] as const;
type Method = (typeof METHODS)[number];

interface Operation {
  method: Method;
  /** OpenAPI template, e.g. /api/websites/{id} */
  path: string;
  params: { name: string; in: string; schema?: Schema }[];
  body?: Schema;
  documented: boolean;
}

interface FuzzRequest {
  op: Operation;
  path: string;
  query: string;
  body: unknown;
  auth: string;
  cluster: 'bound' | 'member' | 'none' | 'forged';
  contentType: string;
}

interface Sent {
  op: Operation;
  status: number;
  url: string;
  body?: string;
}

describe('fuzz: every route, from the OpenAPI document and the router', () => {
  let t: TestApp;
  let pool: Pool;
  let base: string;
  let ops: Operation[] = [];
  let arbs: SchemaArbitraries;
  const tokens: Record<string, string | undefined> = {};
  const siteIds: string[] = [];
  const peer = new ClusterAuth(SECRET, 'fuzz-peer');
  const stats = {
    requests: 0,
    byStatus: new Map<number, number>(),
    byOp: new Map<string, number>(),
    msByOp: new Map<string, number>(),
  };

  beforeAll(async () => {
    t = await createTestApp({
      CLUSTER_SECRET: SECRET,
      VALIDATOR_ID: 'hub',
      ALLOW_PRIVATE_TARGETS: 'true',
      PING_INTERVAL_MS: '60000',
      MAX_SITES_PER_USER: '25',
    });
    await t.app.listen(0, '127.0.0.1');
    base = await t.app.getUrl();
    pool = new Pool(base, { connections: BATCH, pipelining: 1, keepAliveTimeout: 30_000 });
    const api = new Api(t);
    tokens.a = await api.signup('fuzz-a@fuzz.test');
    tokens.b = await api.signup('fuzz-b@fuzz.test');
    tokens.throwaway = await api.signup('fuzz-c@fuzz.test');
    for (const token of [tokens.a, tokens.b]) {
      const r = await api.post(
        '/api/websites',
        { url: 'http://127.0.0.1:9/', intervalMs: 60_000 },
        token,
      );
      siteIds.push(r.body.id);
    }
    Object.assign(tokens, badTokens());
    // A registered peer, so node-bound cluster requests get past authentication.
    const keys = generateKeyPairSync('ed25519');
    const claim = {
      id: 'fuzz-peer',
      region: 'fz',
      publicKey: publicKeyToBase64(keys.publicKey),
      address: '127.0.0.1:9',
      at: Date.now(),
    };
    const joinBody = JSON.stringify({
      ...claim,
      proof: signBytes(keys.privateKey, joinClaimBytes(claim)),
    });
    const join = await t.http
      .post('/api/simulate/gossip/join')
      .set(peer.sign('POST', '/api/simulate/gossip/join', Buffer.from(joinBody)))
      .set('content-type', 'application/json')
      .send(joinBody);
    expect(join.status).toBe(200);
    peer.useIdentity(keys.privateKey);
    peer.setPeers([{ id: 'hub', publicKey: t.app.get(ValidatorIdentity).publicKey }]);

    const doc = (await t.http.get('/api/docs-json').expect(200)).body;
    arbs = new SchemaArbitraries(doc.components?.schemas ?? {});
    ops = operationsOf(doc, routerRoutes(t));
  });

  afterAll(async () => {
    await pool?.close();
    await t?.close();
  });

  async function digest(): Promise<string> {
    const rows = await t.app.get(PrismaService).$queryRawUnsafe<{ d: string }[]>(`
      SELECT concat_ws('|',
        (SELECT md5(coalesce(string_agg(id || email || password_hash || token_version, ',' ORDER BY id), '')) FROM users),
        (SELECT md5(coalesce(string_agg(id || url || name || interval_ms || timeout_ms || paused || updated_at, ',' ORDER BY id), '')) FROM websites),
        (SELECT md5(coalesce(string_agg(id || public_key || address, ',' ORDER BY id), '')) FROM validators)
      ) AS d`);
    return `${rows[0].d}|term=${t.app.get(RaftHost).snapshot().term}`;
  }

  function requestArb(): fc.Arbitrary<FuzzRequest> {
    return fc.constantFrom(...ops).chain((op) => {
      const pathParams = op.params.filter((p) => p.in === 'path');
      const queryParams = op.params.filter((p) => p.in === 'query');
      const ids = fc.oneof(
        fc.constantFrom(...siteIds),
        fc.uuid(),
        fc.constantFrom(
          'sim-00000000-0000-0000-0000-000000000000',
          'not-a-uuid',
          '1',
          'x'.repeat(300),
        ),
        fc.string({ maxLength: 20 }),
      );
      const path = fc.tuple(...pathParams.map(() => ids)).map((vals) => {
        let p = op.path;
        pathParams.forEach(
          (param, i) => (p = p.replace(`{${param.name}}`, encodeURIComponent(String(vals[i])))),
        );
        return p.replace(/:([A-Za-z]+)/g, () => encodeURIComponent(String(vals[0] ?? 'x')));
      });
      // Undocumented queries (untyped handlers) get the names handlers read.
      const names = queryParams.length
        ? queryParams.map((p) => [p.name, arbs.of(p.schema, p.name)] as const)
        : (
            [
              'type',
              'cursor',
              'limit',
              'url',
              'id',
              'siteId',
              'from',
              'to',
              'verdict',
              'status',
            ] as const
          ).map(
            (n) =>
              [
                n,
                n === 'type'
                  ? fc.constantFrom('decisions', 'alerts', 'pings', 'nope')
                  : n === 'url'
                    ? arbs.of({ type: 'string' }, 'url')
                    : anyJson,
              ] as const,
          );
      const query = fc.record(Object.fromEntries(names), { requiredKeys: [] }).map((q) =>
        Object.entries(q)
          .map(
            ([k, v]) =>
              `${encodeURIComponent(k)}=${encodeURIComponent(typeof v === 'string' ? v : JSON.stringify(v))}`,
          )
          .join('&'),
      );
      const body =
        op.method === 'get' ? fc.constant(undefined) : op.body ? arbs.of(op.body) : anyJson;
      return fc.record({
        op: fc.constant(op),
        path,
        query,
        body,
        auth: fc.constantFrom('a', 'a', 'a', 'b', 'missing', 'expired', 'forged', 'garbage'),
        cluster: fc.constantFrom<FuzzRequest['cluster']>(
          'bound',
          'bound',
          'member',
          'none',
          'forged',
        ),
        contentType: fc.constantFrom(
          'application/json',
          'application/json',
          'application/json',
          'text/plain',
          'application/octet-stream',
        ),
      });
    });
  }

  async function send(
    r: fc.Arbitrary<unknown> extends never
      ? never
      : Awaited<ReturnType<typeof requestArb>> extends fc.Arbitrary<infer X>
        ? X
        : never,
  ): Promise<Sent> {
    const url = r.query ? `${r.path}?${r.query}` : r.path;
    const text =
      r.body === undefined
        ? undefined
        : typeof r.body === 'string' && r.contentType !== 'application/json'
          ? r.body
          : JSON.stringify(r.body);
    const headers: Record<string, string> = {};
    const auth = r.op.path === '/api/auth/logout' && r.auth === 'a' ? 'throwaway' : r.auth;
    const token = tokens[auth];
    if (token) headers.authorization = `Bearer ${token}`;
    if (text !== undefined) headers['content-type'] = r.contentType;
    const method = r.op.method.toUpperCase();
    if (clusterRouteOf(r.path)) {
      const raw = Buffer.from(text ?? '');
      if (r.cluster === 'bound') Object.assign(headers, peer.sign(method, r.path, raw, 'hub'));
      if (r.cluster === 'member')
        Object.assign(headers, new ClusterAuth(SECRET, 'fuzz-member').sign(method, r.path, raw));
      if (r.cluster === 'forged')
        Object.assign(
          headers,
          new ClusterAuth('wrong-secret-0123456789abcdef', 'fuzz-peer').sign(method, r.path, raw),
        );
    }
    const t0 = performance.now();
    const res = await pool.request({
      method: method,
      path: url,
      headers,
      body: text,
      headersTimeout: 20_000,
      bodyTimeout: 20_000,
    });
    if (String(res.headers['content-type'] ?? '').includes('text/event-stream')) res.body.destroy();
    else await res.body.text();
    stats.requests += 1;
    stats.byStatus.set(res.statusCode, (stats.byStatus.get(res.statusCode) ?? 0) + 1);
    const key = `${method} ${r.op.path}`;
    stats.byOp.set(key, (stats.byOp.get(key) ?? 0) + 1);
    stats.msByOp.set(key, (stats.msByOp.get(key) ?? 0) + performance.now() - t0);
    const sk = `status ${res.statusCode}`;
    stats.msByOp.set(sk, (stats.msByOp.get(sk) ?? 0) + performance.now() - t0);
    return { op: r.op, status: res.statusCode, url, body: text };
  }

  it(`covers every documented and node-to-node route (${RUNS} requests): no 5xx, rejected requests change nothing`, async () => {
    const documented = ops.filter((o) => o.documented).length;
    expect(documented).toBeGreaterThanOrEqual(15);
    expect(ops.filter((o) => !o.documented).map((o) => o.path)).toEqual(
      expect.arrayContaining(['/api/raft/append-entries', '/api/consensus/status/:siteId']),
    );
    let before = await digest();
    const timing = { send: 0, digest: 0, start: performance.now() };
    // Requests go in batches of BATCH at once (CI time); a batch in which every request was
    // rejected must leave the data exactly as it was.
    let checkedBatches = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(requestArb(), { minLength: BATCH, maxLength: BATCH }),
        async (batch) => {
          const t1 = performance.now();
          const sent = await Promise.all(batch.map((r) => send(r)));
          const t2 = performance.now();
          const after = await digest();
          timing.send += t2 - t1;
          timing.digest += performance.now() - t2;
          const allRejected = sent.every((x) => x.status >= 400);
          const changed = allRejected && after !== before;
          if (allRejected) checkedBatches += 1;
          before = after;
          const bad = sent.find((x) => x.status >= 500);
          if (bad || changed) {
            const x = bad ?? sent[0];
            throw new Error(
              `${bad ? bad.status : 'data changed by rejected requests'}: ${x.op.method.toUpperCase()} ${x.url} body=${x.body?.slice(0, 300)}`,
            );
          }
        },
      ),
      { numRuns: Math.ceil(RUNS / BATCH), ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
    process.stdout.write(
      `fuzz: ${checkedBatches} all-rejected batches checked for unchanged data\n`,
    );
    expect(checkedBatches).toBeGreaterThan(0);
    const byStatus = Object.fromEntries([...stats.byStatus.entries()].sort((a, b) => a[0] - b[0]));
    process.stdout.write(
      `fuzz: ${stats.requests} requests over ${stats.byOp.size} operations (${ops.length} routes); statuses ${JSON.stringify(byStatus)}\n`,
    );
    process.stdout.write(
      `fuzz: timing ${JSON.stringify({ send: Math.round(timing.send), digest: Math.round(timing.digest), total: Math.round(performance.now() - timing.start) })}\n`,
    );
    const slowest = [...stats.msByOp.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12);
    process.stdout.write(
      `fuzz: slowest operations (total ms): ${JSON.stringify(slowest.map(([k, v]) => [k, Math.round(v)]))}\n`,
    );
    expect(stats.requests).toBeGreaterThanOrEqual(RUNS);
    expect([...stats.byStatus.keys()].filter((s) => s >= 500)).toEqual([]);
    // Every operation was exercised, and some requests got through to the services.
    expect([...stats.byOp.keys()].filter((k) => !k.startsWith('status')).length).toBe(ops.length);
    expect([...stats.byStatus.keys()].some((s) => s >= 200 && s < 300)).toBe(true);
    expect((await t.http.get('/health/live')).status).toBe(200);
  });

  /** One upgrade to the stream route, then `bytes` on it if it opened: its status. */
  function upgrade(
    method: string,
    protocol: string,
    headers: Record<string, string>,
    bytes: Uint8Array,
  ): Promise<number> {
    const url = new URL(base);
    return new Promise((resolve, reject) => {
      const req = httpRequest({
        host: url.hostname,
        port: Number(url.port),
        path: STREAM_PATH,
        method,
        agent: false,
        headers: { connection: 'Upgrade', ...(protocol ? { upgrade: protocol } : {}), ...headers },
      });
      req.on('error', reject);
      req.on('response', (res: IncomingMessage) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('upgrade', (res: IncomingMessage, socket: Socket) => {
        socket.on('error', () => undefined);
        socket.write(bytes);
        // A frame may be incomplete (the node waits for the rest): give it a moment, then leave.
        setTimeout(() => socket.destroy(), 20);
        resolve(res.statusCode ?? 0);
      });
      req.end();
    });
  }

  it(`the peers' stream route: fuzzed upgrades and bytes, only a bound signature opens it, nothing changes`, async () => {
    const before = await digest();
    const opened: string[] = [];
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          method: fc.constantFrom('GET', 'GET', 'POST'),
          protocol: fc.constantFrom(STREAM_PROTOCOL, STREAM_PROTOCOL, 'websocket', ''),
          cluster: fc.constantFrom<FuzzRequest['cluster']>('bound', 'member', 'none', 'forged'),
          bytes: fc.uint8Array({ maxLength: 512 }),
        }),
        async (r) => {
          const empty = Buffer.alloc(0);
          const headers: Record<string, string> =
            r.cluster === 'bound'
              ? peer.sign(r.method, STREAM_PATH, empty, 'hub')
              : r.cluster === 'member'
                ? new ClusterAuth(SECRET, 'fuzz-member').sign(r.method, STREAM_PATH, empty)
                : r.cluster === 'forged'
                  ? new ClusterAuth('wrong-secret-0123456789abcdef', 'fuzz-peer').sign(
                      r.method,
                      STREAM_PATH,
                      empty,
                    )
                  : {};
          const status = await upgrade(r.method, r.protocol, headers, r.bytes);
          expect(status).toBeLessThan(500);
          if (status === 101) opened.push(`${r.method} ${r.protocol} ${r.cluster}`);
        },
      ),
      { numRuns: 200, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
    // Only the right method and protocol, signed with the peer's own key, were let in.
    expect(opened.length).toBeGreaterThan(0);
    expect(new Set(opened)).toEqual(new Set([`GET ${STREAM_PROTOCOL} bound`]));
    expect(await digest()).toBe(before);
    expect((await t.http.get('/health/live')).status).toBe(200);
  });
});

/** Routes the HTTP router knows, as "METHOD /path" with Express params (:id). */
function routerRoutes(t: TestApp): { method: Method; path: string }[] {
  const instance = t.app.getHttpAdapter().getInstance() as { _router?: any; router?: any };
  const stack: any[] = (instance.router ?? instance._router)?.stack ?? [];
  const out: { method: Method; path: string }[] = [];
  for (const layer of stack) {
    if (!layer.route) continue;
    for (const m of Object.keys(layer.route.methods)) {
      if ((METHODS as readonly string[]).includes(m))
        out.push({ method: m as Method, path: layer.route.path });
    }
  }
  // Served ahead of Express (raft-http.handler.ts), so not in its router.
  for (const path of RAFT_HTTP_ROUTES) out.push({ method: 'post', path });
  return out;
}

function operationsOf(doc: any, routes: { method: Method; path: string }[]): Operation[] {
  const ops: Operation[] = [];
  const seen = new Set<string>();
  for (const [path, item] of Object.entries<any>(doc.paths ?? {})) {
    for (const method of METHODS) {
      const o = item[method];
      if (!o) continue;
      const body = o.requestBody?.content?.['application/json']?.schema;
      ops.push({ method, path, params: o.parameters ?? [], body, documented: true });
      seen.add(`${method} ${path.replace(/\{(\w+)\}/g, ':$1')}`);
    }
  }
  for (const r of routes) {
    if (seen.has(`${r.method} ${r.path}`) || r.path.startsWith('/api/docs')) continue;
    seen.add(`${r.method} ${r.path}`);
    const params = [...r.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path' }));
    ops.push({ method: r.method, path: r.path, params, documented: false });
  }
  return ops;
}
