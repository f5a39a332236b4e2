// The real-time API over the wire: Socket.IO (socket.io-client) and the plain WebSocket (/ws)
// authenticate with the REST API's tokens, share rooms per user and per site, refuse other
// users' sites with an error and no data, and carry every event of the typed map in the shapes
// the original frontend parses.
import { JwtService } from '@nestjs/jwt';
import request from 'supertest';
import type {
  ConsensusUpdateEvent,
  PingResultEvent,
  RaftCommitEvent,
} from '@/modules/realtime/realtime-events';
import { createServer, type Server } from 'node:http';
import { PING_RESULT_LIMITS, PingResultEmitter } from '@/modules/realtime/ping-result.emitter';
import { RealtimePublisher } from '@/modules/realtime/realtime.publisher';
import { createTestApp, TestApp } from '../support/app';
import {
  connectIo,
  connectWs,
  IoClient,
  openWs,
  sleep,
  waitFor,
  WsClient,
} from '../integration/alerts-support/clients';
import { Owner, ownerWithSite } from '../integration/alerts-support/fixtures';

jest.setTimeout(60_000);

describe('real-time API (Socket.IO and plain WebSocket)', () => {
  let t: TestApp;
  let base: string;
  let alice: Owner;
  let bob: Owner;
  const open: { close(): void }[] = [];
  const keep = <C extends { close(): void }>(c: C): C => {
    open.push(c);
    return c;
  };

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    base = await t.app.getUrl();
    alice = await ownerWithSite(t, 'alice@realtime.test', 'Alice site');
    bob = await ownerWithSite(t, 'bob@realtime.test', 'Bob site');
  });

  afterAll(async () => {
    for (const c of open) c.close();
    await t?.close();
  });

  const ping = (siteId: string, url: string): PingResultEvent => ({
    siteId,
    url,
    round: 5,
    validatorId: '0',
    region: 'local',
    up: false,
    latencyMs: 12,
    httpStatus: 503,
    failure: 'HTTP_STATUS',
    checkedAt: new Date().toISOString(),
  });

  describe('authentication', () => {
    it('refuses a Socket.IO handshake without a valid token', async () => {
      await expect(connectIo(base)).rejects.toThrow('unauthorized');
      await expect(connectIo(base, { token: 'not.a.jwt' })).rejects.toThrow('unauthorized');
      const forged = new JwtService({ secret: 'another-secret-0123456789abcdef0123' }).sign({
        sub: alice.userId,
        email: alice.email,
      });
      await expect(connectIo(base, { token: forged })).rejects.toThrow('unauthorized');
    });

    it('accepts the token as auth.token or as an Authorization header', async () => {
      keep(await connectIo(base, { token: alice.token }));
      keep(await connectIo(base, { headers: { authorization: `Bearer ${alice.token}` } }));
    });

    it('refuses /ws with a bad token before upgrading, and without one after 5 s of silence', async () => {
      const bad = openWs(base, 'garbage');
      const status = await new Promise<number>((resolve) =>
        bad.ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
      );
      expect(status).toBe(401);
      const silent = keep(openWs(base));
      expect((await silent.closed).code).toBe(4408);
    });

    it('accepts a token as the first /ws message, and closes on a wrong one', async () => {
      const c = keep(openWs(base));
      await new Promise((r) => c.ws.once('open', r));
      c.send({ type: 'auth', token: alice.token });
      await waitFor('authenticated', () => c.of('authenticated').length === 1, 5_000);
      const d = keep(openWs(base));
      await new Promise((r) => d.ws.once('open', r));
      d.send({ type: 'auth', token: 'nope' });
      expect((await d.closed).code).toBe(4401);
    });

    it('disconnects both kinds of client when the token expires', async () => {
      const jwt = t.app.get(JwtService, { strict: false });
      const short = jwt.sign({ sub: alice.userId, email: alice.email }, { expiresIn: 2 });
      const io = keep(await connectIo(base, { token: short }));
      // Listen before the next await: on a slow machine expiry can come while ws connects.
      const ioGone = new Promise((r) =>
        io.socket.connected ? io.socket.once('disconnect', r) : r(undefined),
      );
      const ws = keep(await connectWs(base, short));
      expect((await ws.closed).code).toBe(4401);
      await ioGone;
    });
  });

  describe('rooms and ownership', () => {
    let ioAlice: IoClient;
    let ioBob: IoClient;
    let wsAlice: WsClient;
    let wsBob: WsClient;

    beforeAll(async () => {
      ioAlice = keep(await connectIo(base, { token: alice.token }));
      ioBob = keep(await connectIo(base, { token: bob.token }));
      wsAlice = keep(await connectWs(base, alice.token));
      wsBob = keep(await connectWs(base, bob.token));
    });

    it('lets an owner subscribe to their site and answers anyone else with an error, not data', async () => {
      const ack = await ioAlice.socket.emitWithAck('subscribe', { siteId: alice.siteId });
      expect(ack).toEqual({ ok: true, siteId: alice.siteId });
      const refused = await ioBob.socket.emitWithAck('subscribe', { siteId: alice.siteId });
      expect(refused).toEqual({
        ok: false,
        error: { code: 'NOT_FOUND', message: 'website not found', siteId: alice.siteId },
      });
      expect(ioBob.of('error')).toEqual([refused.error]);
      const malformed = await ioBob.socket.emitWithAck('subscribe', { siteId: 'x' });
      expect(malformed.error.code).toBe('BAD_REQUEST');

      wsAlice.send({ type: 'subscribe', siteId: alice.siteId });
      wsBob.send({ type: 'subscribe', siteId: alice.siteId });
      await waitFor(
        'ws answers',
        () => wsAlice.of('subscribed').length === 1 && wsBob.of('error').length === 1,
      );
      expect(wsBob.of('error')[0].data).toMatchObject({ code: 'NOT_FOUND', siteId: alice.siteId });

      const result = ping(alice.siteId, alice.siteUrl);
      t.app.get(RealtimePublisher).toSite(alice.siteId, 'ping-result', result);
      // Only this synthetic round 5: the app's own checks send real ping results too.
      const synthetic = (c: IoClient | WsClient) =>
        c.of('ping-result').filter((r: any) => (r.data ?? r).round === 5);
      await waitFor(
        'ping results',
        () => synthetic(ioAlice).length === 1 && synthetic(wsAlice).length === 1,
      );
      expect(synthetic(ioAlice)[0]).toEqual(result);
      expect(synthetic(wsAlice)[0]).toEqual({ type: 'ping-result', data: result });
      await sleep(300);
      expect(synthetic(ioBob)).toEqual([]);
      expect(synthetic(wsBob)).toEqual([]);
    });

    it('sends a consensus update once per connection, flat on /ws as the original frontend reads it', async () => {
      const update: ConsensusUpdateEvent = {
        url: alice.siteUrl,
        consensus: 'DOWN',
        timeStamp: Date.now(),
        siteId: alice.siteId,
        round: 9,
        regions: { local: 'DOWN' },
        logIndex: 90,
      };
      // Alice is both the owner and a subscriber of the site: one copy each, not two.
      // The app's own checks decide real rounds too: only this synthetic log index counts.
      const synthetic = (c: IoClient | WsClient) =>
        c.of('consensus').filter((u: any) => u.logIndex === update.logIndex);
      t.app
        .get(RealtimePublisher)
        .to({ users: [alice.userId], sites: [alice.siteId] }, 'consensus', update);
      await waitFor(
        'consensus',
        () => synthetic(ioAlice).length === 1 && synthetic(wsAlice).length === 1,
      );
      const frame = synthetic(wsAlice)[0];
      expect(frame).toEqual({ type: 'consensus', ...update });
      // What the original snippet's default branch reads:
      expect([frame.url, frame.consensus, frame.timeStamp]).toEqual([
        update.url,
        'DOWN',
        update.timeStamp,
      ]);
      await sleep(300);
      expect(synthetic(ioAlice)).toHaveLength(1);
      expect(synthetic(wsAlice)).toHaveLength(1);
      expect(synthetic(ioBob)).toEqual([]);
      expect(synthetic(wsBob)).toEqual([]);
      // Bob's own site events never reach Alice, and Alice's never reach Bob.
      expect(ioBob.of('consensus').filter((u: any) => u.siteId === alice.siteId)).toEqual([]);
    });

    it('broadcasts raft-commit to every connection as { type, data } on /ws', async () => {
      const commit: RaftCommitEvent = {
        index: 12,
        term: 3,
        kind: 'decision',
        siteId: bob.siteId,
        round: 4,
        verdict: 'UP',
        timeStamp: Date.now(),
      };
      t.app.get(RealtimePublisher).broadcast('raft-commit', commit);
      // Real commits are broadcast too: only this synthetic entry (term 3, index 12) counts.
      const synthetic = (c: IoClient | WsClient) =>
        c
          .of('raft-commit')
          .filter((e: any) => (e.data ?? e).index === commit.index && (e.data ?? e).term === 3);
      await waitFor(
        'raft-commit everywhere',
        () =>
          [ioAlice, ioBob].every((c) => synthetic(c).length === 1) &&
          [wsAlice, wsBob].every((c) => synthetic(c).length === 1),
      );
      expect(synthetic(wsBob)[0]).toEqual({ type: 'raft-commit', data: commit });
      expect(synthetic(ioBob)[0]).toEqual(commit);
    });

    it('stops site events after unsubscribe', async () => {
      await ioAlice.socket.emitWithAck('unsubscribe', { siteId: alice.siteId });
      wsAlice.send({ type: 'unsubscribe', siteId: alice.siteId });
      await waitFor('ws unsubscribed', () => wsAlice.of('unsubscribed').length === 1);
      const before = [ioAlice.of('ping-result').length, wsAlice.of('ping-result').length];
      t.app
        .get(RealtimePublisher)
        .toSite(alice.siteId, 'ping-result', ping(alice.siteId, alice.siteUrl));
      await sleep(300);
      expect([ioAlice.of('ping-result').length, wsAlice.of('ping-result').length]).toEqual(before);
    });

    it('answers junk on /ws with an error frame and keeps the connection', async () => {
      wsBob.ws.send('{not json');
      wsBob.send({ type: 'dance' });
      await waitFor(
        'two errors',
        () => wsBob.of('error').filter((f) => f.data.code === 'BAD_REQUEST').length === 2,
      );
      expect(wsBob.ws.readyState).toBe(wsBob.ws.OPEN);
    });
  });

  describe('ping-result from the checks (issue 16)', () => {
    let target: Server;
    afterAll(() => new Promise((r) => target?.close(r)));

    it("reaches the owner's Socket.IO and /ws clients from a real check, and nobody else's", async () => {
      target = createServer((_req, res) => res.writeHead(204).end());
      await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(target.address() as { port: number }).port}/live`;
      const created = await request(base)
        .post('/api/websites')
        .set('authorization', `Bearer ${alice.token}`)
        .send({ name: 'live', url, intervalMs: 10_000, timeoutMs: 2_000 })
        .expect(201);
      const siteId = created.body.id as string;
      const io = keep(await connectIo(base, { token: alice.token }));
      const ws = keep(await connectWs(base, alice.token));
      const ioOther = keep(await connectIo(base, { token: bob.token }));
      const wsOther = keep(await connectWs(base, bob.token));
      const mine = (c: IoClient | WsClient) =>
        c.of('ping-result').filter((r: any) => (r.data ?? r).siteId === siteId);
      // The first round starts within one interval (10 s) of the site's phase.
      await waitFor(
        'a ping result on both transports',
        () => mine(io).length > 0 && mine(ws).length > 0,
        30_000,
      );
      expect(mine(io)[0]).toMatchObject({
        siteId,
        url,
        up: true,
        httpStatus: 204,
        failure: null,
        round: expect.any(Number),
        validatorId: expect.any(String),
        region: expect.any(String),
        checkedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      });
      expect(mine(ws)[0]).toEqual({ type: 'ping-result', data: mine(io)[0] });
      await sleep(1_500);
      expect(mine(ioOther)).toEqual([]);
      expect(mine(wsOther)).toEqual([]);
    });

    it('with 5,000 sites, one client receives at most maxPerOwner results per window', async () => {
      const emitter = t.app.get(PingResultEmitter);
      const sites = Array.from(
        { length: 5_000 },
        (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      );
      for (const id of sites) emitter.learnSite(id, `https://load.test/${id}`, alice.userId);
      const io = keep(await connectIo(base, { token: alice.token }));
      const ws = keep(await connectWs(base, alice.token));
      const load = (c: IoClient | WsClient) =>
        c.of('ping-result').filter((r: any) => (r.data ?? r).url.startsWith('https://load.test/'));
      // 5,000 sites at 20 s checked by 3 validators: 750 results/s, offered for 5 s.
      const seconds = 5;
      const t0 = Date.now();
      for (let tick = 0; tick < seconds * 10; tick++) {
        for (let k = 0; k < 75; k++) {
          const n = tick * 75 + k;
          emitter.offer({
            siteId: sites[Math.floor(n / 3) % sites.length],
            round: 1 + Math.floor(n / 15_000),
            validatorId: `v${1 + (n % 3)}`,
            region: `region-${1 + (n % 3)}`,
            up: true,
            latencyMs: 10,
            httpStatus: 200,
            checkedAt: Date.now(),
          });
        }
        await sleep(100);
      }
      const elapsed = (Date.now() - t0) / 1000;
      await sleep(PING_RESULT_LIMITS.windowMs + 200);
      const got = load(io).length;
      const windows = Math.ceil((elapsed * 1000) / PING_RESULT_LIMITS.windowMs) + 1;
      console.log(
        `ping-result at 5,000 sites: ${seconds * 750} offered in ${elapsed.toFixed(1)} s; one Socket.IO client got ${got} ` +
          `(${(got / elapsed).toFixed(1)}/s), one /ws client ${load(ws).length}; bound ${PING_RESULT_LIMITS.maxPerOwner} per ${PING_RESULT_LIMITS.windowMs} ms window`,
      );
      expect(got).toBeGreaterThan(0);
      expect(got).toBeLessThanOrEqual(windows * PING_RESULT_LIMITS.maxPerOwner);
      expect(load(ws).length).toBeLessThanOrEqual(windows * PING_RESULT_LIMITS.maxPerOwner);
      expect(load(keep(await connectIo(base, { token: bob.token })))).toEqual([]);
      expect(emitter.stats().pending).toBeLessThanOrEqual(sites.length * 3);
    });
  });

  it('leaves other upgrade paths and plain HTTP alone', async () => {
    await request(t.app.getHttpServer()).get('/health/live').expect(200);
    const stray = openWs(base, alice.token, '/not-ws');
    const result = await Promise.race([
      stray.closed.then(() => 'closed'),
      sleep(3_000).then(() => 'open'),
    ]);
    expect(result).toBe('closed');
  });
});
