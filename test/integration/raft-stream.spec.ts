/**
 * The peers' Raft streams (GET /api/raft/stream, HTTP Upgrade) on three real
 * RaftHost instances over real sockets and disks: the stream carries the
 * cluster's writes (no request carries a message meanwhile); an upgrade that
 * is unsigned or signed with another node's key is refused, and a dialer
 * refuses an acceptor that cannot prove who it is; on an authenticated stream
 * a forged frame, a replayed one, an oversized length, an undecodable payload
 * and a frame speaking for another node each close that connection and are
 * counted, nothing of them is stepped, and the cluster carries on. A follower
 * restart is redialed and the cluster continues. Last, the mutation check:
 * without the tag check the forged frame is stepped, which the assertions catch.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import type { RaftMessage } from '@/core/raft/raft.messages';
import { HEADER_NONCE } from '@/infra/cluster/cluster-auth';
import {
  ClusterStream,
  ClusterStreams,
  MAX_STREAM_FRAME_BYTES,
  STREAM_PROTOCOL,
} from '@/infra/cluster/cluster-stream';
import { FrameOpener, HEADER_BYTES } from '@/infra/cluster/cluster-stream.frames';
import type { StreamFaultReason } from '@/infra/cluster/cluster-stream.frames';
import { encodeFrame } from '@/modules/raft/raft-frame';
import { STREAM_PATH } from '@/modules/raft/raft-stream.link';
import { freePort } from '../support/node-process';
import { waitFor } from '../support/wait';
import { authFor, HostNode, planHosts, type HostSpec } from './raft-support/host-cluster';

jest.setTimeout(120_000);

const OPTIONS = { snapshotEvery: 100_000 };

interface UpgradeAnswer {
  status: number;
  socket?: Socket;
}

/** A bare upgrade request with the given headers: the status it got (101 or a refusal). */
function rawUpgrade(address: string, headers: Record<string, string>): Promise<UpgradeAnswer> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const req = request({
      host,
      port: Number(port),
      path: STREAM_PATH,
      method: 'GET',
      agent: false,
      headers: { connection: 'Upgrade', upgrade: STREAM_PROTOCOL, ...headers },
    });
    req.on('error', reject);
    req.on('response', (res: IncomingMessage) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    req.on('upgrade', (res: IncomingMessage, socket: Socket) =>
      resolve({ status: res.statusCode ?? 0, socket }),
    );
    req.end();
  });
}

function closed(socket: Socket, ms = 3_000): Promise<boolean> {
  if (socket.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** The socket under an open stream, with every byte this side writes recorded. */
function tap(stream: ClusterStream): { socket: Socket; written: Buffer[] } {
  const socket = Reflect.get(stream, 'socket') as Socket;
  const written: Buffer[] = [];
  const write = socket.write.bind(socket) as (chunk: Buffer, cb?: () => void) => boolean;
  socket.write = ((chunk: Buffer, cb?: () => void) => {
    written.push(Buffer.from(chunk));
    return write(chunk, cb);
  }) as Socket['write'];
  return { socket, written };
}

function rawFrame(seq: number, payload: Buffer, tag = Buffer.alloc(32, 7)): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32BE(payload.length, 0);
  header.writeUInt32BE(seq, 8);
  tag.copy(header, 12);
  return Buffer.concat([header, payload]);
}

describe('raft peer streams', () => {
  let root: string;
  let specs: HostSpec[];
  const nodes: HostNode[] = [];
  const leaderOf = () => nodes.find((n) => n.host.isLeader());
  let writes = 0;

  /** One write through the current leader, committed on every node. */
  async function write(): Promise<void> {
    const { value: leader } = await waitFor('a leader', 15_000, async () => leaderOf());
    const n = ++writes;
    await leader.host.proposeWhenSettled('kv', { op: 'put', key: 'w', value: String(n) }, 5_000);
    await waitFor(`write ${n} on every node`, 10_000, async () =>
      nodes.every((x) => x.host.kv.get('w') === String(n)),
    );
  }

  /** A follower to attack, and another node whose identity the attacker holds. */
  async function roles(): Promise<{ target: HostNode; as: HostNode }> {
    const { value: leader } = await waitFor('a leader', 15_000, async () => leaderOf());
    const followers = nodes.filter((n) => n !== leader);
    return { target: followers[0], as: followers[1] };
  }

  /** A heartbeat that would make `target` follow `as` at a much higher term, if stepped. */
  function usurp(as: HostNode, target: HostNode): Buffer {
    const m: RaftMessage = {
      type: 'Heartbeat',
      from: as.spec.address,
      to: target.spec.address,
      term: target.host.snapshot().term + 50,
      leaderCommit: 0,
      context: null,
    };
    return encodeFrame([m]);
  }

  async function streamAs(as: HostNode, target: HostNode): Promise<ClusterStream> {
    const streams = new ClusterStreams(authFor(as.spec.nodeId, as.spec.key, specs));
    return streams.dial(target.spec.address, STREAM_PATH, 5_000);
  }

  /**
   * Runs `attack` against target's stream endpoint and checks it was closed,
   * counted under `reason`, stepped nothing, left the term alone and the
   * cluster serving.
   */
  interface Attack {
    socket: Socket;
    /** recognises the attack's messages among everything the host is handed */
    ours?: (m: RaftMessage) => boolean;
    /** how many frames of the attack are legitimate (and so reach the host) */
    legitimate?: number;
  }

  async function expectRefused(
    reason: StreamFaultReason,
    attack: (as: HostNode, target: HostNode) => Promise<Attack>,
  ): Promise<void> {
    const { target, as } = await roles();
    const before = target.streams.stats().faults[reason] ?? 0;
    const term = target.host.snapshot().term;
    // Observes what reaches the host (the real method runs): the real peers' frames too.
    const handed = jest.spyOn(target.host, 'receiveBatch');
    try {
      const a = await attack(as, target);
      const ours = a.ours ?? ((m: RaftMessage) => m.term >= term + 50);
      expect(await closed(a.socket)).toBe(true);
      expect(target.streams.stats().faults[reason]).toBe(before + 1);
      // Taken (not refused by the host's own checks, which throw): only the legitimate frames.
      const taken = handed.mock.calls.filter(
        ([ms], i) => ms.some(ours) && handed.mock.results[i].type === 'return',
      ).length;
      expect(taken).toBe(a.legitimate ?? 0);
      expect(target.host.snapshot().term).toBe(term);
    } finally {
      handed.mockRestore();
    }
    await write();
  }

  beforeAll(async () => {
    Logger.overrideLogger(['error']);
    root = mkdtempSync(join(tmpdir(), 'raft-stream-'));
    specs = await planHosts(3, (i) => join(root, `h${i + 1}`));
    for (const s of specs) nodes.push(await HostNode.start(s, specs, OPTIONS));
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("carries a 3-node cluster's writes: no request carries a message meanwhile", async () => {
    await write(); // leader elected, streams dialed
    const { value: leader } = await waitFor('a leader', 15_000, async () => leaderOf());
    const followers = nodes.filter((n) => n !== leader).map((n) => n.spec.address);
    const at = () => leader.host.transportStats().peers;
    await waitFor('streams to both followers', 10_000, async () =>
      followers.every((f) => (at()[f]?.stream?.opens ?? 0) >= 1),
    );
    const before = at();
    for (let i = 0; i < 50; i++) await write();
    const after = at();
    for (const f of followers) {
      expect(after[f].streamMessages - before[f].streamMessages).toBeGreaterThanOrEqual(50);
      expect(after[f].messages - before[f].messages).toBe(0);
      expect(after[f].batches - before[f].batches).toBe(0);
    }
    for (const n of nodes) expect(n.host.kv.get('w')).toBe(String(writes));
  });

  it('refuses an unsigned upgrade and one signed with another node’s key', async () => {
    const { target, as } = await roles();
    const refused = target.streams.stats().refused;
    expect((await rawUpgrade(target.spec.address, {})).status).toBe(401);
    // The right id and the cluster secret, but the wrong node key: the binding fails.
    const other = nodes.find((n) => n !== target && n !== as)!;
    const forged = authFor(as.spec.nodeId, other.spec.key, specs).sign(
      'GET',
      STREAM_PATH,
      Buffer.alloc(0),
      target.spec.address,
    );
    expect((await rawUpgrade(target.spec.address, forged)).status).toBe(401);
    // A correct signature replayed: its nonce was seen.
    const signed = authFor(as.spec.nodeId, as.spec.key, specs).sign(
      'GET',
      STREAM_PATH,
      Buffer.alloc(0),
      target.spec.address,
    );
    const first = await rawUpgrade(target.spec.address, signed);
    expect(first.status).toBe(101);
    first.socket!.destroy();
    expect((await rawUpgrade(target.spec.address, signed)).status).toBe(401);
    expect(target.streams.stats().refused).toBe(refused + 3);
    await write();
  });

  it('does not take an acceptor that cannot prove it is the node it dialed', async () => {
    const { target, as } = await roles();
    const other = nodes.find((n) => n !== target && n !== as)!;
    const port = await freePort();
    const impostorAddress = `127.0.0.1:${port}`;
    // The impostor answers 101 for the target's id, signed with another node's key.
    const impostor = authFor(target.spec.nodeId, other.spec.key, specs);
    const server = createServer();
    const sockets: Socket[] = [];
    server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      sockets.push(socket);
      const dn = req.headers[HEADER_NONCE] as string;
      const proof = impostor.sign(
        'GET',
        `${STREAM_PATH}#accept`,
        Buffer.from(dn, 'hex'),
        as.spec.address,
      );
      const lines = [
        'HTTP/1.1 101 Switching Protocols',
        'Connection: Upgrade',
        `Upgrade: ${STREAM_PROTOCOL}`,
      ];
      for (const [k, v] of Object.entries(proof)) lines.push(`${k}: ${v}`);
      socket.write(lines.join('\r\n') + '\r\n\r\n');
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      const registry = specs.map((s) =>
        s === target.spec ? { ...s, address: impostorAddress } : s,
      );
      const dialer = new ClusterStreams(authFor(as.spec.nodeId, as.spec.key, registry));
      await expect(dialer.dial(impostorAddress, STREAM_PATH, 5_000)).rejects.toThrow(
        /not authenticated/,
      );
    } finally {
      for (const socket of sockets) socket.destroy(); // upgraded: not the server's any more
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  /** A frame with the right length and sequence but a made-up tag: it would usurp leadership. */
  async function forged(as: HostNode, target: HostNode): Promise<Attack> {
    const stream = await streamAs(as, target);
    const socket = Reflect.get(stream, 'socket') as Socket;
    socket.write(rawFrame(1, usurp(as, target)));
    return { socket };
  }

  it('closes and counts a forged frame (bad tag); nothing is stepped', async () => {
    await expectRefused('bad-tag', forged);
  });

  it('closes and counts a replayed frame; only the original is stepped', async () => {
    await expectRefused('replayed', async (as, target) => {
      const stream = await streamAs(as, target);
      const { socket, written } = tap(stream);
      // A harmless frame (a stale response) sent properly, then its bytes again.
      const stale: RaftMessage = {
        type: 'HeartbeatResponse',
        from: as.spec.address,
        to: target.spec.address,
        term: 0,
        context: null,
      };
      await new Promise<void>((resolve) => stream.send(encodeFrame([stale]), () => resolve()));
      socket.write(Buffer.concat(written));
      // No real node sends a term-0 message once a leader is elected.
      return { socket, ours: (m) => m.term === 0, legitimate: 1 };
    });
  });

  it('closes and counts an oversized length prefix before reading its payload', async () => {
    await expectRefused('oversized', async (as, target) => {
      const { socket } = tap(await streamAs(as, target));
      const header = Buffer.alloc(HEADER_BYTES);
      header.writeUInt32BE(MAX_STREAM_FRAME_BYTES + 1, 0);
      header.writeUInt32BE(1, 8);
      socket.write(header);
      return { socket };
    });
  });

  it('closes and counts an authenticated frame that is garbage or speaks for another node', async () => {
    await expectRefused('garbage', async (as, target) => {
      const stream = await streamAs(as, target);
      stream.send(Buffer.from('not a raft frame'), () => undefined);
      return { socket: Reflect.get(stream, 'socket') as Socket };
    });
    await expectRefused('garbage', async (as, target) => {
      const stream = await streamAs(as, target);
      const third = nodes.find((n) => n !== as && n !== target)!;
      // Signed and tagged by `as`, but the message claims to be from the third node.
      stream.send(usurp(third, target), () => undefined);
      return { socket: Reflect.get(stream, 'socket') as Socket };
    });
  });

  it('redials a restarted follower, and the cluster continues', async () => {
    const { value: leader } = await waitFor('a leader', 15_000, async () => leaderOf());
    const i = nodes.findIndex((n) => n !== leader);
    const follower = nodes[i];
    const opens = () => leader.host.transportStats().peers[follower.spec.address].stream!.opens;
    const before = opens();
    await follower.stop();
    nodes.splice(i, 1);
    // Committed by the other two meanwhile.
    await leader.host.proposeWhenSettled('kv', { op: 'put', key: 'w', value: 'while-down' });
    nodes.splice(i, 0, await HostNode.start(follower.spec, specs, OPTIONS));
    await waitFor('the leader redials the follower', 15_000, async () => opens() > before);
    await write();
    const restarted = nodes[i];
    const at = restarted.host.transportStats();
    expect(at.badFrames).toBe(0);
    expect(restarted.host.kv.get('w')).toBe(String(writes));
  });

  it('mutation: without the tag check, the forged-frame test fails (the frame is stepped)', async () => {
    const { target } = await roles();
    const term = target.host.snapshot().term;
    const tagMatches = FrameOpener.prototype.tagMatches;
    FrameOpener.prototype.tagMatches = () => true;
    try {
      await expect(expectRefused('bad-tag', forged)).rejects.toThrow();
    } finally {
      FrameOpener.prototype.tagMatches = tagMatches;
    }
    // It failed because the forged heartbeat was stepped: the target follows at its term.
    expect(target.host.snapshot().term).toBeGreaterThanOrEqual(term + 50);
  });
});
