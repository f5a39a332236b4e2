// Add or edit a site of any check kind (HTTP, TCP, DNS, TLS certificate, push). Validation is
// the API's: its per-field messages (details[].path, e.g. "check.assertions.maxLatencyMs") are
// shown under the fields they name; anything else above the buttons.
import { useState } from 'preact/hooks';
import { api, ApiError } from '../lib/api';
import type { CheckKind, CheckSpec, DnsRecordType, HttpMethod, Website } from '../lib/types';
import { Input, Select } from './Field';

export const KIND_LABEL: Record<CheckKind, string> = {
  http: 'HTTP(S)',
  tcp: 'TCP port',
  dns: 'DNS record',
  tls: 'TLS certificate',
  push: 'Push (heartbeat)',
};
const KINDS = Object.keys(KIND_LABEL) as CheckKind[];
const METHODS: HttpMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const RECORD_TYPES: DnsRecordType[] = ['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'NS'];

interface Draft {
  kind: CheckKind;
  name: string;
  /** http: the URL */
  url: string;
  /** tcp: host:port; tls: host[:port]; dns: the name */
  target: string;
  intervalS: string;
  timeoutMs: string;
  paused: boolean;
  method: HttpMethod;
  /** codes and ranges: "200, 204, 300-399" */
  expectedStatus: string;
  keyword: string;
  maxLatencyMs: string;
  tcpTls: boolean;
  recordType: DnsRecordType;
  expected: string;
  match: 'any' | 'all' | 'exact';
  resolver: string;
  warnDays: string;
  downDays: string;
  checkChain: boolean;
  checkHostname: boolean;
  periodS: string;
  graceS: string;
}

const SCHEME: Partial<Record<CheckKind, string>> = { tcp: 'tcp://', tls: 'tls://', dns: 'dns://' };

function draftOf(w?: Website): Draft {
  const c: CheckSpec | null = w?.check ?? null;
  const kind: CheckKind = c?.kind ?? 'http';
  const scheme = SCHEME[kind];
  const ranges = c?.kind === 'http' ? c.assertions.status.map((r) => `${r.min}-${r.max}`) : [];
  return {
    kind,
    name: w?.name ?? '',
    url: kind === 'http' ? (w?.url ?? '') : '',
    target: scheme && w?.url.startsWith(scheme) ? w.url.slice(scheme.length) : '',
    intervalS: w ? String(w.intervalMs / 1000) : '60',
    timeoutMs: w ? String(w.timeoutMs) : '',
    paused: w?.paused ?? false,
    method: c?.kind === 'http' ? c.method : 'GET',
    expectedStatus: [...(w?.expectedStatus ?? []).map(String), ...ranges].join(', '),
    keyword: w?.keyword ?? '',
    maxLatencyMs:
      c?.kind === 'http' && c.assertions.maxLatencyMs !== null
        ? String(c.assertions.maxLatencyMs)
        : '',
    tcpTls: c?.kind === 'tcp' ? c.tls : false,
    recordType: c?.kind === 'dns' ? c.recordType : 'A',
    expected: c?.kind === 'dns' ? c.expected.join(', ') : '',
    match: c?.kind === 'dns' ? c.match : 'all',
    resolver: c?.kind === 'dns' ? (c.resolver ?? '') : '',
    warnDays: c?.kind === 'tls' ? String(c.warnDays) : '14',
    downDays: c?.kind === 'tls' ? String(c.downDays) : '7',
    checkChain: c?.kind === 'tls' ? c.checkChain : true,
    checkHostname: c?.kind === 'tls' ? c.checkHostname : true,
    periodS: c?.kind === 'push' ? String(c.periodS) : '60',
    graceS: c?.kind === 'push' ? String(c.graceS) : '30',
  };
}

const list = (s: string) => s.split(/[\s,]+/).filter((x) => x !== '');
/** A number when the text is one, else the text itself (the API says what is wrong with it). */
const num = (s: string): number | string => (s.trim() !== '' && !isNaN(Number(s)) ? Number(s) : s);

function checkOf(d: Draft, editing: boolean): { check: Record<string, unknown>; extra: object } {
  switch (d.kind) {
    case 'http': {
      const codes: number[] = [];
      const status: { min: number | string; max: number | string }[] = [];
      for (const part of list(d.expectedStatus)) {
        const m = /^(\d+)\s*-\s*(\d+)$/.exec(part);
        if (m) status.push({ min: Number(m[1]), max: Number(m[2]) });
        else codes.push(num(part) as number);
      }
      return {
        check: {
          kind: 'http',
          method: d.method,
          assertions: {
            status,
            maxLatencyMs: d.maxLatencyMs.trim() === '' ? null : num(d.maxLatencyMs),
          },
        },
        extra: {
          expectedStatus: codes.length > 0 || editing ? codes : undefined,
          keyword: d.keyword === '' ? (editing ? null : undefined) : d.keyword,
        },
      };
    }
    case 'tcp':
      return { check: { kind: 'tcp', tls: d.tcpTls }, extra: {} };
    case 'dns':
      return {
        check: {
          kind: 'dns',
          recordType: d.recordType,
          expected: list(d.expected),
          match: d.match,
          resolver: d.resolver.trim() === '' ? null : d.resolver.trim(),
        },
        extra: {},
      };
    case 'tls':
      return {
        check: {
          kind: 'tls',
          warnDays: num(d.warnDays),
          downDays: num(d.downDays),
          checkChain: d.checkChain,
          checkHostname: d.checkHostname,
        },
        extra: {},
      };
    case 'push':
      return {
        check: { kind: 'push', periodS: num(d.periodS), graceS: num(d.graceS) },
        extra: {},
      };
  }
}

/** What the API gets: empty optional fields are left out so its defaults apply. */
function bodyOf(d: Draft, editing: boolean): Record<string, unknown> {
  const { check, extra } = checkOf(d, editing);
  const body: Record<string, unknown> = { check, ...extra };
  if (d.kind === 'http') body.url = d.url.trim();
  else if (d.kind !== 'push') body.url = `${SCHEME[d.kind]}${d.target.trim()}`;
  if (d.name.trim() !== '' || editing) body.name = d.name.trim() || undefined;
  if (d.kind !== 'push') {
    if (d.intervalS.trim() !== '') body.intervalMs = Math.round(Number(d.intervalS) * 1000);
    if (d.timeoutMs.trim() !== '') body.timeoutMs = Number(d.timeoutMs);
  }
  body.paused = d.paused;
  return JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
}

/** The form field an API issue path names, for the kind being edited. */
function fieldOf(path: string, kind: CheckKind): keyof Draft | null {
  const parts = path.split('.');
  if (parts[0] === 'check') {
    const rest = parts.slice(1).filter((p) => p !== 'assertions');
    const key = rest[0];
    if (key === undefined) return kind === 'tls' ? 'downDays' : null;
    if (key === 'status') return 'expectedStatus';
    if (key === 'tls') return 'tcpTls';
    const direct: (keyof Draft)[] = [
      'method',
      'maxLatencyMs',
      'recordType',
      'expected',
      'match',
      'resolver',
      'warnDays',
      'downDays',
      'checkChain',
      'checkHostname',
      'periodS',
      'graceS',
    ];
    return direct.includes(key as keyof Draft) ? (key as keyof Draft) : null;
  }
  switch (parts[0]) {
    case 'url':
      return kind === 'http' ? 'url' : kind === 'push' ? null : 'target';
    case 'intervalMs':
      return 'intervalS';
    case 'timeoutMs':
    case 'name':
    case 'expectedStatus':
    case 'keyword':
    case 'paused':
      return parts[0];
    default:
      return null;
  }
}

export function SiteForm({
  site,
  onSaved,
  onCancel,
}: {
  site?: Website;
  onSaved: (w: Website) => void;
  onCancel: () => void;
}) {
  const editing = site !== undefined;
  const [d, setD] = useState<Draft>(() => draftOf(site));
  const [errors, setErrors] = useState<Partial<Record<keyof Draft, string>>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set =
    (k: keyof Draft) =>
    (e: Event): void => {
      const t = e.currentTarget as HTMLInputElement;
      setD({ ...d, [k]: t.type === 'checkbox' ? t.checked : t.value });
    };

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setGeneral(null);
    try {
      const w = editing
        ? await api<Website>(`/api/websites/${site.id}`, { method: 'PUT', body: bodyOf(d, true) })
        : await api<Website>('/api/websites', { method: 'POST', body: bodyOf(d, false) });
      onSaved(w);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const next: Partial<Record<keyof Draft, string>> = {};
      const unplaced: string[] = [];
      for (const issue of err.details) {
        const field = fieldOf(issue.path, d.kind);
        if (field) next[field] ??= issue.message;
        else unplaced.push(`${issue.path}: ${issue.message}`);
      }
      if (err.code === 'TARGET_NOT_ALLOWED')
        next[d.kind === 'http' ? 'url' : 'target'] = err.message;
      setErrors(next);
      if (Object.keys(next).length === 0 || unplaced.length > 0)
        setGeneral(unplaced.length > 0 ? unplaced.join('; ') : err.message);
    } finally {
      setBusy(false);
    }
  };

  const prefix = editing ? `edit-${site.id.slice(0, 8)}` : 'new-site';
  const value = (k: keyof Draft) => (v: string) => setD({ ...d, [k]: v });
  const input = (k: keyof Draft, label: string, props: Record<string, unknown>, hint?: string) => (
    <Input
      id={`${prefix}-${k}`}
      name={k}
      label={label}
      error={errors[k]}
      hint={hint}
      value={d[k] as string}
      onValue={value(k)}
      {...props}
    />
  );
  const select = (k: keyof Draft, label: string, options: [string, string][], hint?: string) => (
    <Select
      id={`${prefix}-${k}`}
      name={k}
      label={label}
      error={errors[k]}
      hint={hint}
      value={d[k] as string}
      onValue={value(k)}
      options={options}
    />
  );
  const checkbox = (k: keyof Draft, label: string) => {
    const id = `${prefix}-${k}`;
    return (
      <div class={`field field-inline${errors[k] ? ' field-error' : ''}`}>
        <input
          id={id}
          type="checkbox"
          checked={d[k] as boolean}
          onChange={set(k)}
          aria-describedby={errors[k] ? `${id}-error` : undefined}
        />
        <label for={id}>{label}</label>
        {errors[k] && (
          <small id={`${id}-error`} class="error" role="alert">
            {errors[k]}
          </small>
        )}
      </div>
    );
  };

  const kindFields = () => {
    switch (d.kind) {
      case 'http':
        return (
          <>
            {input('url', 'URL', {
              type: 'url',
              required: true,
              placeholder: 'https://example.com/health',
            })}
            {select(
              'method',
              'Method',
              METHODS.map((m) => [m, m]),
            )}
            {input(
              'expectedStatus',
              'Accepted HTTP status codes',
              { type: 'text', placeholder: 'any 2xx' },
              'codes and ranges, e.g. 200, 204, 300-399',
            )}
            {input('keyword', 'Keyword in body', { type: 'text', placeholder: 'optional' })}
            {input(
              'maxLatencyMs',
              'Slowest accepted response (ms)',
              { type: 'number', min: 1, step: 1, placeholder: 'no limit' },
              'slower is DOWN',
            )}
          </>
        );
      case 'tcp':
        return input(
          'target',
          'Host and port',
          { type: 'text', required: true, placeholder: 'db.example.com:5432' },
          'host:port',
        );
      case 'tls':
        return (
          <>
            {input(
              'target',
              'Host',
              { type: 'text', required: true, placeholder: 'example.com' },
              'host or host:port (443 by default)',
            )}
            {input('warnDays', 'Warn when fewer days left', { type: 'number', min: 1, max: 365 })}
            {input('downDays', 'DOWN when fewer days left', { type: 'number', min: 0, max: 365 })}
          </>
        );
      case 'dns':
        return (
          <>
            {input('target', 'Record name', {
              type: 'text',
              required: true,
              placeholder: 'example.com',
            })}
            {select(
              'recordType',
              'Record type',
              RECORD_TYPES.map((t) => [t, t]),
            )}
            {input(
              'expected',
              'Expected values',
              { type: 'text', placeholder: 'any answer' },
              'comma-separated; MX: the exchange name',
            )}
            {select('match', 'Expected values must', [
              ['all', 'all be in the answer'],
              ['any', 'have one in the answer'],
              ['exact', 'be exactly the answer'],
            ])}
            {input(
              'resolver',
              'Resolver',
              { type: 'text', placeholder: 'the system resolver' },
              'an IP, optionally with :port',
            )}
          </>
        );
      case 'push':
        return (
          <>
            {input(
              'periodS',
              'Expected beat every (seconds)',
              { type: 'number', min: 2, max: 86400 },
              '2 s to 24 h',
            )}
            {input(
              'graceS',
              'Grace (seconds)',
              { type: 'number', min: 0, max: 3600 },
              'how late a beat may be before DOWN',
            )}
          </>
        );
    }
  };

  return (
    <form
      class="panel site-form"
      onSubmit={(e) => void submit(e)}
      aria-label={editing ? `Edit ${site.name}` : 'Add a site'}
      noValidate
    >
      <h2>{editing ? `Edit ${site.name}` : 'Add a site'}</h2>
      <fieldset class="kinds">
        <legend>Check kind</legend>
        {KINDS.map((k) => (
          <label key={k} class="kind">
            <input
              type="radio"
              name={`${prefix}-kind`}
              value={k}
              checked={d.kind === k}
              disabled={editing && d.kind !== k}
              onChange={() => {
                setD({ ...d, kind: k });
                setErrors({});
              }}
            />
            {KIND_LABEL[k]}
          </label>
        ))}
        {editing && <small class="hint"> The kind is chosen when a site is added.</small>}
      </fieldset>
      <div class="grid">
        {kindFields()}
        {input('name', 'Name', {
          type: 'text',
          placeholder: d.kind === 'push' ? 'e.g. nightly backup' : 'defaults to the host',
        })}
        {d.kind !== 'push' &&
          input(
            'intervalS',
            'Check every (seconds)',
            { type: 'number', min: 10, step: 1 },
            '10 s to 24 h',
          )}
        {d.kind !== 'push' &&
          input(
            'timeoutMs',
            'Timeout (ms)',
            { type: 'number', min: 500, step: 100 },
            'default: min(10 s, interval / 2)',
          )}
      </div>
      {d.kind === 'tcp' && checkbox('tcpTls', 'Complete a verified TLS handshake')}
      {d.kind === 'tls' && checkbox('checkChain', 'An untrusted certificate chain is DOWN')}
      {d.kind === 'tls' && checkbox('checkHostname', 'A certificate for another name is DOWN')}
      {checkbox('paused', 'Paused')}
      {general && (
        <p class="error" role="alert">
          {general}
        </p>
      )}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {editing ? 'Save' : 'Add site'}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
