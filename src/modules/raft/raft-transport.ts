import { Logger } from '@nestjs/common';
import type { RaftMessage } from '@/core/raft/raft.messages';
import { ClusterClient } from '@/infra/cluster/cluster-client';
import { pathOf, toWire } from './raft-wire';

/**
 * Fire-and-forget delivery of Raft messages, one bounded queue and a few
 * concurrent requests per peer. Raft tolerates loss and reordering, so a slow
 * or dead follower only loses its own messages; it never stalls the others.
 */

const MAX_QUEUE = 512;
const MAX_INFLIGHT = 4;

export interface TransportTimeouts {
  messageMs: number;
  snapshotMs: number;
}

class PeerQueue {
  private readonly queue: RaftMessage[] = [];
  private inflight = 0;
  dropped = 0;
  failed = 0;

  constructor(
    private readonly peer: string,
    private readonly client: ClusterClient,
    private readonly timeouts: TransportTimeouts,
    private readonly log: Logger,
  ) {}

  push(m: RaftMessage): void {
    if (this.queue.length >= MAX_QUEUE) {
      this.queue.shift();
      this.dropped += 1;
    }
    this.queue.push(m);
    this.pump();
  }

  private pump(): void {
    while (this.inflight < MAX_INFLIGHT && this.queue.length > 0) {
      const m = this.queue.shift()!;
      this.inflight += 1;
      const timeout =
        m.type === 'InstallSnapshot' ? this.timeouts.snapshotMs : this.timeouts.messageMs;
      this.client
        .post(this.peer, pathOf(m.type), toWire(m), timeout)
        .then((res) => {
          if (res.status >= 300) {
            this.failed += 1;
            this.log.warn(`${m.type} to ${this.peer}: HTTP ${res.status}`);
          }
        })
        .catch(() => {
          // Unreachable peer: Raft retries by itself (heartbeats, probes).
          this.failed += 1;
        })
        .finally(() => {
          this.inflight -= 1;
          this.pump();
        });
    }
  }
}

export class RaftTransport {
  private readonly peers = new Map<string, PeerQueue>();
  private readonly log = new Logger('RaftTransport');

  constructor(
    private readonly client: ClusterClient,
    private readonly timeouts: TransportTimeouts,
  ) {}

  send(m: RaftMessage): void {
    let q = this.peers.get(m.to);
    if (!q) {
      q = new PeerQueue(m.to, this.client, this.timeouts, this.log);
      this.peers.set(m.to, q);
    }
    q.push(m);
  }

  stats(): Record<string, { dropped: number; failed: number }> {
    const out: Record<string, { dropped: number; failed: number }> = {};
    for (const [peer, q] of this.peers) out[peer] = { dropped: q.dropped, failed: q.failed };
    return out;
  }
}
