/**
 * What kind of check a site is and the options of each kind, as one zod schema that
 * validates API input, documents it in OpenAPI and re-validates what the database holds.
 * The target stays the site's `url`: an http(s) URL, or tcp://host:port, tls://host[:port]
 * or dns://name for the other kinds (targetProblem says which fits which). A push site
 * dials nothing: its url is push://<site id>, set by the server.
 */
import { isIP } from 'node:net';
import { z } from 'zod';

export const CHECK_KINDS = ['http', 'tcp', 'dns', 'tls', 'push'] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export const DNS_RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'NS'] as const;
export type DnsRecordType = (typeof DNS_RECORD_TYPES)[number];

export const MAX_REQUEST_BODY = 64 * 1024;
const MAX_LIST = 16;

// Headers the HTTP client owns: a site setting them would break framing or the guard.
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
]);

const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/, 'not an HTTP header name')
  .refine((h) => !RESERVED_HEADERS.has(h.toLowerCase()), 'this header is set by the checker');
const headerValue = z
  .string()
  .max(4096)
  .regex(/^[\t\x20-\x7e\x80-\xff]*$/, 'header values cannot hold control characters');

const statusRange = z
  .strictObject({
    min: z.number().int().min(100).max(599),
    max: z.number().int().min(100).max(599),
  })
  .refine((r) => r.min <= r.max, 'min above max');

/** `$.a.b[0]["c d"]`: member names and array indexes only (no wildcards or filters). */
export const jsonPathSchema = z
  .string()
  .max(256)
  .regex(
    /^\$(\.[A-Za-z_$][\w$-]*|\[\d{1,6}\]|\["(?:[^"\\]|\\.)*"\])*$/,
    'a JSON path like $.data.items[0].name',
  );

const jsonScalar = z.union([z.string().max(1024), z.number(), z.boolean(), z.null()]);

export const jsonAssertionSchema = z.discriminatedUnion('op', [
  z
    .strictObject({ path: jsonPathSchema, op: z.literal('equals'), value: jsonScalar })
    .describe('the value at path equals `value`'),
  z
    .strictObject({ path: jsonPathSchema, op: z.literal('contains'), value: jsonScalar })
    .describe('a string at path contains `value`, or an array at path has an element equal to it'),
  z
    .strictObject({
      path: jsonPathSchema,
      op: z.literal('range'),
      min: z.number().optional(),
      max: z.number().optional(),
    })
    .refine((a) => a.min !== undefined || a.max !== undefined, 'min, max or both')
    .describe('the number at path is within [min, max]'),
]);
export type JsonAssertion = z.infer<typeof jsonAssertionSchema>;

const bodyText = z.string().min(1).max(1024);

export const httpAssertionsSchema = z.strictObject({
  status: z
    .array(statusRange)
    .max(MAX_LIST)
    .default([])
    .describe('accepted status ranges, besides expectedStatus; both empty: any 2xx'),
  bodyContains: z.array(bodyText).max(MAX_LIST).default([]).describe('texts the body must hold'),
  bodyNotContains: z
    .array(bodyText)
    .max(MAX_LIST)
    .default([])
    .describe('texts the body must not hold'),
  json: z
    .array(jsonAssertionSchema)
    .max(MAX_LIST)
    .default([])
    .describe('assertions on the body parsed as JSON'),
  maxLatencyMs: z
    .number()
    .int()
    .min(1)
    .max(60_000)
    .nullable()
    .default(null)
    .describe('slower than this is DOWN (failure TIMEOUT)'),
});
export type HttpAssertions = z.infer<typeof httpAssertionsSchema>;

const httpCheck = z
  .strictObject({
    kind: z.literal('http'),
    method: z.enum(HTTP_METHODS).default('GET'),
    headers: z
      .record(headerName, headerValue)
      .refine((h) => Object.keys(h).length <= 32, 'at most 32 headers')
      .default({}),
    body: z.string().max(MAX_REQUEST_BODY).nullable().default(null),
    connection: z
      .enum(['reuse', 'fresh'])
      .default('reuse')
      .describe(
        'reuse: a kept-alive connection shared per origin (each closed after 100 checks, so ' +
          'connecting is measured again); fresh: a new connection for every check',
      ),
    assertions: httpAssertionsSchema.prefault({}),
  })
  .describe('an HTTP(S) request to `url` with assertions on the response');

const tcpCheck = z
  .strictObject({
    kind: z.literal('tcp'),
    tls: z.boolean().default(false).describe('complete a verified TLS handshake after connecting'),
  })
  .describe('a TCP connection to tcp://host:port');

const dnsCheck = z
  .strictObject({
    kind: z.literal('dns'),
    recordType: z.enum(DNS_RECORD_TYPES).default('A'),
    expected: z
      .array(z.string().min(1).max(255))
      .max(32)
      .default([])
      .describe('expected values (MX: the exchange name); empty: any non-empty answer'),
    match: z
      .enum(['any', 'all', 'exact'])
      .default('all')
      .describe('any: one expected value answered; all: every one; exact: the answer is the set'),
    resolver: z
      .string()
      .max(64)
      .nullable()
      .default(null)
      .refine(
        (r) => r === null || parseResolver(r) !== undefined,
        'an IP address with an optional port',
      )
      .describe('resolver to ask, "ip" or "ip:port" ("[v6]:port"); null: the system resolver'),
  })
  .describe('a DNS query for the name in dns://name');

const tlsCheck = z
  .strictObject({
    kind: z.literal('tls'),
    warnDays: z.number().int().min(1).max(365).default(14).describe('fewer days left: a warning'),
    downDays: z.number().int().min(0).max(365).default(7).describe('fewer days left: DOWN'),
    checkChain: z.boolean().default(true).describe('an untrusted chain is DOWN'),
    checkHostname: z.boolean().default(true).describe('a certificate for another name is DOWN'),
  })
  .refine((t) => t.downDays < t.warnDays, { message: 'downDays must be below warnDays' })
  .describe('the certificate served at tls://host[:port] (port 443 by default)');

export const PUSH_PERIOD_S = { min: 2, max: 86_400, default: 60 } as const;
export const PUSH_GRACE_S = { min: 0, max: 3_600, default: 30 } as const;

const pushCheck = z
  .strictObject({
    kind: z.literal('push'),
    periodS: z
      .number()
      .int()
      .min(PUSH_PERIOD_S.min)
      .max(PUSH_PERIOD_S.max)
      .default(PUSH_PERIOD_S.default)
      .describe('seconds between the beats the job is expected to send (2 s to 24 h)'),
    graceS: z
      .number()
      .int()
      .min(PUSH_GRACE_S.min)
      .max(PUSH_GRACE_S.max)
      .default(PUSH_GRACE_S.default)
      .describe('extra seconds a beat may be late before the site is DOWN (0 to 1 h)'),
  })
  .describe(
    'a heartbeat: the job calls POST or GET /api/push/{token}; DOWN once no beat was ' +
      'committed for periodS + graceS (the url is push://<site id>, set by the server)',
  );

export const checkSpecSchema = z
  .discriminatedUnion('kind', [httpCheck, tcpCheck, dnsCheck, tlsCheck, pushCheck])
  .describe('what kind of check the site is, with that kind’s options');

export type CheckSpec = z.infer<typeof checkSpecSchema>;
export type HttpCheckSpec = Extract<CheckSpec, { kind: 'http' }>;
export type TcpCheckSpec = Extract<CheckSpec, { kind: 'tcp' }>;
export type DnsCheckSpec = Extract<CheckSpec, { kind: 'dns' }>;
export type TlsCheckSpec = Extract<CheckSpec, { kind: 'tls' }>;
export type PushCheckSpec = Extract<CheckSpec, { kind: 'push' }>;

/** The spec of a site that never chose one: a plain GET. */
export const DEFAULT_CHECK: HttpCheckSpec = checkSpecSchema.parse({
  kind: 'http',
}) as HttpCheckSpec;

/** Where a check connects: the host and port named by a site's url for its kind. */
export interface Endpoint {
  host: string;
  port: number;
}

/** Why `url` cannot be the target of a `kind` check, or null when it can. */
export function targetProblem(kind: CheckKind, url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'not an absolute URL';
  }
  switch (kind) {
    case 'http':
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname.length > 0
        ? null
        : 'expected an absolute http:// or https:// URL';
    case 'tcp':
      return endpointOf(kind, url) ? null : 'expected tcp://host:port';
    case 'tls':
      return endpointOf(kind, url) ? null : 'expected tls://host or tls://host:port';
    case 'dns':
      return dnsNameOf(url) ? null : 'expected dns://name';
    case 'push':
      return pushSiteIdOf(url) ? null : 'expected push://<site id>';
  }
}

const PUSH_URL = /^push:\/\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** The url of a push site: it names the site whose beats it reads. */
export function pushUrlOf(siteId: string): string {
  return `push://${siteId}`;
}

/** The site id in a push://<id> url; undefined when it is not one. */
export function pushSiteIdOf(url: string): string | undefined {
  return PUSH_URL.exec(url)?.[1];
}

/** host:port of a tcp:// or tls:// target; undefined when it is not one. */
export function endpointOf(kind: 'tcp' | 'tls', url: string): Endpoint | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== `${kind}:` || u.username || u.password) return undefined;
  if ((u.pathname !== '' && u.pathname !== '/') || u.search || u.hash) return undefined;
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host.length === 0) return undefined;
  const port = u.port === '' ? (kind === 'tls' ? 443 : 0) : Number(u.port);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
  return { host, port };
}

/** The name a dns:// target queries, lower-case without the root dot. */
export function dnsNameOf(url: string): string | undefined {
  const m = /^dns:\/\/([A-Za-z0-9_.-]{1,253})\/?$/.exec(url.trim());
  if (!m) return undefined;
  const name = m[1].toLowerCase().replace(/\.$/, '');
  return name.length > 0 && name.split('.').every((l) => l.length > 0 && l.length <= 63)
    ? name
    : undefined;
}

/** "ip", "ip:port" or "[v6]:port" to an address and port (53 by default). */
export function parseResolver(raw: string): { address: string; port: number } | undefined {
  let address: string;
  let port = '53';
  const v6 = /^\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?$/.exec(raw);
  const v4 = /^([0-9.]+)(?::(\d{1,5}))?$/.exec(raw);
  if (isIP(raw) === 6) address = raw;
  else if (v6 ?? v4) {
    const m = (v6 ?? v4)!;
    address = m[1];
    port = m[2] ?? port;
  } else return undefined;
  const n = Number(port);
  return isIP(address) && n >= 1 && n <= 65_535 ? { address, port: n } : undefined;
}
