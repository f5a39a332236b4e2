/**
 * The pure parts of check kinds: which target fits which kind, resolver syntax, JSON
 * paths, status ranges and DNS answer matching.
 */
import {
  checkSpecSchema,
  dnsNameOf,
  endpointOf,
  parseResolver,
  targetProblem,
  type DnsCheckSpec,
} from '@/modules/ping/check-spec';
import { compare } from '@/modules/ping/dns-checker';
import { jsonProblem, pathSteps, statusAccepted } from '@/modules/ping/http-assertions';

describe('targets per kind', () => {
  it.each([
    ['http', 'https://a.example/x', true],
    ['http', 'tcp://a.example:80', false],
    ['tcp', 'tcp://a.example:5432', true],
    ['tcp', 'tcp://a.example', false],
    ['tcp', 'tcp://a.example:70000', false],
    ['tcp', 'tcp://user:pw@a.example:22', false],
    ['tcp', 'tcp://a.example:22/path', false],
    ['tls', 'tls://a.example', true],
    ['tls', 'tls://[2001:db8::1]:8443', true],
    ['tls', 'https://a.example', false],
    ['dns', 'dns://a.example', true],
    ['dns', 'dns://a.example.', true],
    ['dns', 'dns://a..example', false],
    ['dns', 'dns://a.example:53', false],
  ] as const)('%s %s fits: %s', (kind, url, fits) => {
    expect(targetProblem(kind, url) === null).toBe(fits);
  });

  it('reads host and port, with 443 as the tls default', () => {
    expect(endpointOf('tls', 'tls://A.Example')).toEqual({ host: 'a.example', port: 443 });
    expect(endpointOf('tcp', 'tcp://[::1]:25')).toEqual({ host: '::1', port: 25 });
    expect(dnsNameOf('dns://Mail.Example.')).toBe('mail.example');
  });

  it.each([
    ['9.9.9.9', { address: '9.9.9.9', port: 53 }],
    ['127.0.0.1:5353', { address: '127.0.0.1', port: 5353 }],
    ['2001:db8::53', { address: '2001:db8::53', port: 53 }],
    ['[2001:db8::53]:5353', { address: '2001:db8::53', port: 5353 }],
    ['ns.example', undefined],
    ['1.2.3.4:0', undefined],
    ['999.1.1.1', undefined],
  ])('resolver %s', (raw, parsed) => {
    expect(parseResolver(raw)).toEqual(parsed);
  });
});

describe('http assertions', () => {
  it('splits JSON paths into steps', () => {
    expect(pathSteps('$.a.b[2]["c \\"d\\""]')).toEqual(['a', 'b', 2, 'c "d"']);
    expect(pathSteps('$')).toEqual([]);
  });

  it('judges values at paths', () => {
    const doc = { a: [1, 'x'], n: 3, o: { s: 'hello' } };
    expect(jsonProblem(doc, { path: '$.a[1]', op: 'equals', value: 'x' })).toBeNull();
    expect(jsonProblem(doc, { path: '$.a', op: 'contains', value: 1 })).toBeNull();
    expect(jsonProblem(doc, { path: '$.o.s', op: 'contains', value: 'ell' })).toBeNull();
    expect(jsonProblem(doc, { path: '$.n', op: 'range', min: 3, max: 3 })).toBeNull();
    expect(jsonProblem(doc, { path: '$.a[2]', op: 'equals', value: null })).toMatch(
      /no such value/,
    );
    expect(jsonProblem(doc, { path: '$.a.length', op: 'equals', value: 2 })).toMatch(
      /no such value/,
    );
    expect(jsonProblem(doc, { path: '$.o', op: 'equals', value: 'x' })).toMatch(
      /is \{"s":"hello"\}/,
    );
  });

  it('accepts listed codes, ranges, or any 2xx when neither is given', () => {
    expect(statusAccepted(204, [], [])).toBe(true);
    expect(statusAccepted(301, [], [])).toBe(false);
    expect(statusAccepted(301, [301], [])).toBe(true);
    expect(statusAccepted(404, [200], [{ min: 400, max: 404 }])).toBe(true);
    expect(statusAccepted(200, [], [{ min: 400, max: 404 }])).toBe(false);
  });

  it('fills every default of an http check, and refuses unknown options', () => {
    expect(checkSpecSchema.parse({ kind: 'http' })).toMatchObject({
      method: 'GET',
      connection: 'reuse',
      assertions: { status: [], json: [], maxLatencyMs: null },
    });
    expect(checkSpecSchema.safeParse({ kind: 'tcp', port: 1 }).success).toBe(false);
  });
});

describe('dns answers against expected values', () => {
  const spec = (o: Partial<DnsCheckSpec>) =>
    checkSpecSchema.parse({ kind: 'dns', ...o }) as DnsCheckSpec;

  it('normalises names but not TXT strings', () => {
    expect(compare('a', spec({ recordType: 'MX', expected: ['MX.A.'] }), ['mx.a']).ok).toBe(true);
    expect(compare('a', spec({ recordType: 'TXT', expected: ['Key'] }), ['key']).ok).toBe(false);
  });

  it('applies any, all and exact', () => {
    const answer = ['192.0.2.1', '192.0.2.2'];
    expect(
      compare('a', spec({ expected: ['192.0.2.1', '192.0.2.9'], match: 'any' }), answer).ok,
    ).toBe(true);
    expect(
      compare('a', spec({ expected: ['192.0.2.1', '192.0.2.9'], match: 'all' }), answer).ok,
    ).toBe(false);
    expect(compare('a', spec({ expected: ['192.0.2.1'], match: 'exact' }), answer).ok).toBe(false);
    expect(compare('a', spec({ expected: [] }), []).ok).toBe(false);
  });
});
