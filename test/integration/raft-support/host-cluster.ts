import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AppConfig } from '@/config/app-config';
import type { RaftMessage } from '@/core/raft/raft.messages';
import type { StateMachine } from '@/core/raft/raft.types';
import { ClusterAuth } from '@/infra/cluster/cluster-auth';
import { ClusterClient } from '@/infra/cluster/cluster-client';
import { ClusterStreams } from '@/infra/cluster/cluster-stream';
import { publicKeyToBase64 } from '@/modules/gossip/ed25519';
import { decodeFrame } from '@/modules/raft/raft-frame';
import { RaftHost } from '@/modules/raft/raft-host';
import { RaftStreamHandler } from '@/modules/raft/raft-stream.handler';
import { BATCH_PATH } from '@/modules/raft/raft-transport';
import { freePort } from '../../support/node-process';

/**
 * Real RaftHost instances in this process, each with its own disk storage and
 * an HTTP server on 127.0.0.1 that does what the node's batch route does:
 * verify the signed binary frame, decode it, step it, answer with what the
 * host has for the sender. The server also counts the InstallSnapshot chunks
 * it receives, so a test can see how a snapshot travelled. The peers' streams
 * (GET /api/raft/stream) are accepted by the node's own RaftStreamHandler.
 */

const SECRET = 'host-cluster-test-secret-0123456789';

export interface HostSpec {
  readonly nodeId: string;
  readonly address: string;
  readonly dir: string;
  readonly key: KeyObject;
  readonly publicKey: string;
}

export interface HostOptions {
  readonly snapshotEvery: number;
  /** state machines to register before the host boots */
  readonly machines?: Readonly<Record<string, StateMachine<unknown>>>;
}

export interface ReceivedChunks {
  chunks: number;
  bytes: number;
}

export async function planHosts(n: number, dirOf: (i: number) => string): Promise<HostSpec[]> {
  const specs: HostSpec[] = [];
  for (let i = 0; i < n; i++) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    specs.push({
      nodeId: `h${i + 1}`,
      address: `127.0.0.1:${await freePort()}`,
      dir: dirOf(i),
      key: privateKey,
      publicKey: publicKeyToBase64(publicKey),
    });
  }
  return specs;
}

/** A node's cluster credentials: its id, the private key it signs with, the registry. */
export function authFor(nodeId: string, key: KeyObject, all: readonly HostSpec[]): ClusterAuth {
  const auth = new ClusterAuth(SECRET, nodeId);
  auth.useIdentity(key);
  auth.setPeers(all.map((s) => ({ id: s.nodeId, publicKey: s.publicKey, address: s.address })));
  return auth;
}

export class HostNode {
  readonly received: ReceivedChunks = { chunks: 0, bytes: 0 };

  private constructor(
    readonly spec: HostSpec,
    readonly host: RaftHost,
    private readonly server: Server,
    private readonly client: ClusterClient,
    readonly streams: ClusterStreams,
    private readonly streamHandler: RaftStreamHandler,
  ) {}

  static async start(spec: HostSpec, all: readonly HostSpec[], o: HostOptions): Promise<HostNode> {
    const auth = authFor(spec.nodeId, spec.key, all);
    const client = new ClusterClient(auth, { timeoutMs: 5_000 });
    const config = {
      dataDir: spec.dir,
      node: {
        advertiseAddress: spec.address,
        peers: all.filter((s) => s !== spec).map((s) => ({ address: s.address })),
      },
      raft: { electionTimeoutMs: 1_000, heartbeatMs: 100, snapshotEvery: o.snapshotEvery },
    } as unknown as AppConfig;
    const streams = new ClusterStreams(auth);
    const host = new RaftHost(config, client, streams);
    for (const [name, sm] of Object.entries(o.machines ?? {})) host.register(name, sm);
    const server = createServer();
    const streamHandler = new RaftStreamHandler(host, streams);
    streamHandler.mount(server);
    const node = new HostNode(spec, host, server, client, streams, streamHandler);
    server.on('request', (req, res) => {
      void node.answer(auth, req).then(({ status, headers, body }) => {
        res.writeHead(status, { 'content-type': 'application/octet-stream', ...headers });
        res.end(body);
      });
    });
    const port = Number(spec.address.split(':')[1]);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    await host.onApplicationBootstrap();
    return node;
  }

  async stop(): Promise<void> {
    await this.host.onApplicationShutdown();
    await this.client.close();
    this.streamHandler.closeAll();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async answer(
    auth: ClusterAuth,
    req: IncomingMessage,
  ): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    const parts: Buffer[] = [];
    for await (const part of req) parts.push(part as Buffer);
    const body = Buffer.concat(parts);
    const refuse = (status: number) => ({ status, headers: {}, body: Buffer.alloc(0) });
    if (req.method !== 'POST' || req.url !== BATCH_PATH) return refuse(404);
    const v = auth.verify('POST', BATCH_PATH, body, req.headers);
    if (!v.ok || !v.bound || !v.address) return refuse(401);
    let messages: RaftMessage[];
    try {
      messages = decodeFrame(body);
    } catch {
      return refuse(400);
    }
    for (const m of messages) {
      if (m.type !== 'InstallSnapshot') continue;
      this.received.chunks++;
      this.received.bytes += m.data.byteLength;
    }
    try {
      this.host.receiveBatch(messages, v.address);
    } catch {
      return refuse(503);
    }
    const reply = await this.host.replyTo(v.address);
    return { status: 200, ...reply };
  }
}
