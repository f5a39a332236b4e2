/**
 * A real SMTP server (smtp-server) on 127.0.0.1 that keeps every message it accepts, parsed just
 * enough for assertions. stop() frees the port (clients get "connection refused"); start() again
 * listens on the same port, as a mail server coming back after an outage would.
 */
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  envelopeTo: string[];
  messageId: string;
  subject: string;
  headers: Map<string, string>;
  text: string;
  html: string;
  raw: string;
  at: number;
}

export class SmtpSink {
  readonly received: ReceivedMail[] = [];
  private server?: SMTPServer;
  port = 0;

  async start(): Promise<this> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      closeTimeout: 100,
      size: 1 << 20,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          this.received.push(
            parseMail(
              raw,
              session.envelope.rcptTo.map((r) => r.address),
            ),
          );
          callback();
        });
      },
    });
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.server.address() as { port: number }).port;
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Messages with this Message-ID (angle brackets included). */
  withMessageId(id: string): ReceivedMail[] {
    return this.received.filter((m) => m.messageId === id);
  }
}

function parseMail(raw: string, envelopeTo: string[]): ReceivedMail {
  const [head] = raw.split(/\r?\n\r?\n/, 1);
  const headers = parseHeaders(head);
  const parts = mimeParts(raw);
  return {
    envelopeTo,
    messageId: headers.get('message-id') ?? '',
    subject: headers.get('subject') ?? '',
    headers,
    text: parts.get('text/plain') ?? '',
    html: parts.get('text/html') ?? '',
    raw,
    at: Date.now(),
  };
}

function parseHeaders(head: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) map.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return map;
}

/** content-type -> decoded body of each leaf part (quoted-printable and base64 understood). */
function mimeParts(raw: string): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (entity: string) => {
    const sep = /\r?\n\r?\n/.exec(entity);
    if (!sep) return;
    const headers = parseHeaders(entity.slice(0, sep.index));
    const body = entity.slice(sep.index + sep[0].length);
    const type = headers.get('content-type') ?? 'text/plain';
    const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
    if (boundary) {
      for (const part of body.split(`--${boundary}`).slice(1)) {
        if (!part.startsWith('--')) visit(part.replace(/^\r?\n/, ''));
      }
      return;
    }
    const enc = (headers.get('content-transfer-encoding') ?? '').toLowerCase();
    const decoded =
      enc === 'quoted-printable'
        ? Buffer.from(
            body
              .replace(/=\r?\n/g, '')
              .replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
            'latin1',
          ).toString('utf8')
        : enc === 'base64'
          ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
          : body;
    out.set(type.split(';')[0].trim().toLowerCase(), decoded);
  };
  visit(raw);
  return out;
}
