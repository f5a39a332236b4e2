/**
 * Prometheus metrics of gossip, on a registry of its own that the app's /metrics
 * can merge. The engine keeps plain counters; they are read at scrape time, so
 * nothing is counted twice and the hot path stays allocation-free.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { GossipStats } from '@/core/gossip/gossip-engine';
import { REJECT_REASONS } from '@/core/gossip/gossip.types';

const EMPTY: GossipStats = {
  published: 0,
  accepted: 0,
  forwarded: 0,
  rejected: Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as GossipStats['rejected'],
  sentMessages: 0,
  sentItems: 0,
  sendFailures: 0,
  dropped: { pending: 0, peerQueue: 0, sendFailed: 0, seenEvicted: 0 },
  pending: 0,
  queued: 0,
  inFlight: 0,
  seen: 0,
};

export class GossipMetrics {
  private source: () => GossipStats = () => EMPTY;
  private readonly rekeys: Counter;
  private readonly rekeysRefused: Counter;

  constructor(readonly registry: Registry = new Registry()) {
    const registers = [registry];
    const read = () => this.source();
    const counter = (name: string, help: string, value: (s: GossipStats) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(value(read()));
        },
      });
    counter('gossip_votes_published_total', 'own votes signed and gossiped', (s) => s.published);
    counter('gossip_votes_accepted_total', 'peer votes that passed every check', (s) => s.accepted);
    counter(
      'gossip_votes_forwarded_total',
      'accepted votes relayed one more hop',
      (s) => s.forwarded,
    );
    counter('gossip_messages_sent_total', 'gossip requests sent to peers', (s) => s.sentMessages);
    counter('gossip_send_failures_total', 'gossip requests that failed', (s) => s.sendFailures);
    new Counter({
      name: 'gossip_votes_rejected_total',
      help: 'votes dropped before the tally, by reason',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        const s = read();
        for (const reason of REJECT_REASONS) this.inc({ reason }, s.rejected[reason]);
      },
    });
    new Counter({
      name: 'gossip_votes_dropped_total',
      help: 'votes dropped by backpressure: pending, peer_queue, send_failed, seen_evicted',
      labelNames: ['where'],
      registers,
      collect() {
        this.reset();
        const d = read().dropped;
        this.inc({ where: 'pending' }, d.pending);
        this.inc({ where: 'peer_queue' }, d.peerQueue);
        this.inc({ where: 'send_failed' }, d.sendFailed);
        this.inc({ where: 'seen_evicted' }, d.seenEvicted);
      },
    });
    new Gauge({
      name: 'gossip_votes_queued',
      help: 'votes waiting to be pushed (pending + per-peer queues)',
      registers,
      collect() {
        const s = read();
        this.set(s.pending + s.queued);
      },
    });
    this.rekeys = new Counter({
      name: 'gossip_validator_rekeys_total',
      help: 'validators that registered a different public key',
      registers,
    });
    this.rekeysRefused = new Counter({
      name: 'gossip_validator_rekeys_refused_total',
      help: 'joins that presented another key for a registered validator without proof',
      registers,
    });
  }

  /** Reads the engine's counters at scrape time. */
  watch(source: () => GossipStats): void {
    this.source = source;
  }

  rekeyRefused(): void {
    this.rekeysRefused.inc();
  }

  rekeyed(): void {
    this.rekeys.inc();
  }

  snapshot(): GossipStats {
    return this.source();
  }
}
