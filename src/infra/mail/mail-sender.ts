/**
 * The mail port: one message out, with a caller-chosen Message-ID. A failure says whether the
 * message certainly did not go (retry soon), might have gone (retry only after a safe delay,
 * same Message-ID), or will never go (do not retry).
 */

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** `<id@domain>`; kept across retries so receiving clients can drop a duplicate */
  messageId: string;
  headers?: Record<string, string>;
}

export interface SentMail {
  messageId: string;
  /** the SMTP server's final reply, e.g. "250 OK: queued as ..." */
  response: string;
}

/**
 * - `transient`: the server never accepted the message (refused, greeting timeout, 4xx).
 * - `ambiguous`: the connection broke after the message body went out; it may have been accepted.
 * - `permanent`: the server refused this message for good (5xx on the envelope or content).
 */
export type MailFailureKind = 'transient' | 'ambiguous' | 'permanent';

export class MailSendError extends Error {
  constructor(
    readonly kind: MailFailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MailSendError';
  }
}

export abstract class MailSender {
  /** true when messages really leave the process (SMTP), false when they are only logged */
  abstract readonly delivers: boolean;
  /** Resolves once the server accepted the message; rejects with MailSendError. */
  abstract send(mail: OutgoingMail): Promise<SentMail>;
}

interface NodemailerError {
  code?: unknown;
  responseCode?: unknown;
  command?: unknown;
  message?: unknown;
}

/** Commands after which the server may already hold the message. */
const AFTER_BODY = new Set(['DATA', 'DATA end', 'BDAT', 'message']);
/** nodemailer codes for a connection that never got as far as sending. */
const NOT_CONNECTED = new Set([
  'ECONNECTION',
  'EDNS',
  'ECONNREFUSED',
  'ETLS',
  'EAUTH',
  'ENOTFOUND',
]);

/** Maps a nodemailer (or timeout) error to what a retry policy needs to know. */
export function classifyMailError(err: unknown): MailSendError {
  const e = (err ?? {}) as NodemailerError;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const command = typeof e.command === 'string' ? e.command : undefined;
  const status = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const text = typeof e.message === 'string' ? e.message : String(err);
  const detail = [code, status, command].filter((x) => x !== undefined).join(' ');
  const message = `${text}${detail ? ` (${detail})` : ''}`.slice(0, 1000);
  const kind = ((): MailFailureKind => {
    // A definite answer from the server decides: 5xx is final, 4xx is "try later". Bad
    // credentials (535) are an operator's fix away, so they are retried too.
    if (status !== undefined && status >= 500 && code !== 'EAUTH' && command !== 'CONN')
      return 'permanent';
    if (status !== undefined && status >= 400) return 'transient';
    if (code === 'EMESSAGE' || code === 'EENVELOPE') return 'permanent';
    if ((code && NOT_CONNECTED.has(code)) || command === 'CONN') return 'transient';
    if (command && !AFTER_BODY.has(command)) return 'transient';
    // A socket error or timeout with no known phase (or during DATA) may have followed the
    // server's acceptance.
    return 'ambiguous';
  })();
  return new MailSendError(kind, message, { cause: err });
}
