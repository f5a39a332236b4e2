/**
 * A small authoritative DNS server over UDP on 127.0.0.1 for dns:// check tests,
 * built on dns-packet: it answers the records of its zone, NXDOMAIN for names it does
 * not hold, an empty answer for a type the name lacks, and `silent` names never.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import * as packet from 'dns-packet';

export interface ZoneName {
  A?: string[];
  AAAA?: string[];
  CNAME?: string;
  MX?: { exchange: string; preference: number }[];
  TXT?: string[];
  NS?: string[];
  /** never answered: the client times out */
  silent?: boolean;
}

export interface DnsServer {
  address: string;
  port: number;
  /** queries received so far */
  queries: number;
  close(): Promise<void>;
}

export async function startDnsServer(zone: Record<string, ZoneName>): Promise<DnsServer> {
  const socket: Socket = createSocket('udp4');
  const server = { queries: 0 } as DnsServer;
  socket.on('message', (msg: Buffer, from: RemoteInfo) => {
    server.queries += 1;
    let query: packet.Packet;
    try {
      query = packet.decode(msg);
    } catch {
      return;
    }
    const q = query.questions?.[0];
    if (!q) return;
    const entry = zone[q.name.toLowerCase()];
    if (entry?.silent) return;
    const reply = packet.encode({
      id: query.id,
      type: 'response',
      flags: packet.AUTHORITATIVE_ANSWER | (entry ? 0 : 3), // rcode 3: NXDOMAIN
      questions: [q],
      answers: entry ? answersFor(q.name, q.type, entry) : [],
    });
    socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return Object.assign(server, {
    address: '127.0.0.1',
    port: socket.address().port,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  });
}

function answersFor(name: string, type: string, e: ZoneName): packet.Answer[] {
  const ttl = 60;
  switch (type) {
    case 'A':
      return (e.A ?? []).map((data) => ({ name, type: 'A', ttl, data }));
    case 'AAAA':
      return (e.AAAA ?? []).map((data) => ({ name, type: 'AAAA', ttl, data }));
    case 'CNAME':
      return e.CNAME ? [{ name, type: 'CNAME', ttl, data: e.CNAME }] : [];
    case 'MX':
      return (e.MX ?? []).map((data) => ({ name, type: 'MX', ttl, data }));
    case 'TXT':
      return (e.TXT ?? []).map((data) => ({ name, type: 'TXT', ttl, data }));
    case 'NS':
      return (e.NS ?? []).map((data) => ({ name, type: 'NS', ttl, data }));
    default:
      return [];
  }
}
