// SMTP failures sorted for the retry policy: never sent (retry soon), maybe sent (wait out the
// lease), refused for good (give up).
import { classifyMailError } from '@/infra/mail/mail-sender';

const err = (fields: Record<string, unknown>) => Object.assign(new Error('boom'), fields);

describe('classifyMailError', () => {
  it.each([
    ['connection refused', { code: 'ESOCKET', command: 'CONN' }, 'transient'],
    ['greeting timeout', { code: 'ETIMEDOUT', command: 'CONN' }, 'transient'],
    ['DNS failure', { code: 'EDNS' }, 'transient'],
    ['4xx on RCPT', { code: 'EENVELOPE', responseCode: 451, command: 'RCPT TO' }, 'transient'],
    ['bad credentials', { code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN' }, 'transient'],
    ['5xx greeting', { code: 'EPROTOCOL', responseCode: 554, command: 'CONN' }, 'transient'],
    ['unknown mailbox', { code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO' }, 'permanent'],
    ['message refused', { code: 'EMESSAGE', responseCode: 552, command: 'DATA' }, 'permanent'],
    ['socket lost after the body', { code: 'ESOCKET', command: 'DATA' }, 'ambiguous'],
    ['send timeout (phase unknown)', {}, 'ambiguous'],
  ])('%s is %s', (_what, fields, kind) => {
    const e = classifyMailError(err(fields));
    expect(e.kind).toBe(kind);
    expect(e.message).toContain('boom');
  });
});
