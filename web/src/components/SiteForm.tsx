// Add or edit a site. Validation is the API's: its per-field messages are shown under the
// fields they name; anything else above the buttons.
import { useState } from 'preact/hooks';
import { api, ApiError } from '../lib/api';
import type { Website } from '../lib/types';
import { describedBy, Field } from './Field';

interface Draft {
  name: string;
  url: string;
  intervalS: string;
  timeoutMs: string;
  expectedStatus: string;
  keyword: string;
  paused: boolean;
}

function draftOf(w?: Website): Draft {
  return {
    name: w?.name ?? '',
    url: w?.url ?? '',
    intervalS: w ? String(w.intervalMs / 1000) : '60',
    timeoutMs: w ? String(w.timeoutMs) : '',
    expectedStatus: w?.expectedStatus.join(', ') ?? '',
    keyword: w?.keyword ?? '',
    paused: w?.paused ?? false,
  };
}

/** What the API gets: empty optional fields are left out so its defaults apply. */
function bodyOf(d: Draft, editing: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = { url: d.url.trim() };
  if (d.name.trim() !== '' || editing) body.name = d.name.trim() || undefined;
  if (d.intervalS.trim() !== '') body.intervalMs = Math.round(Number(d.intervalS) * 1000);
  if (d.timeoutMs.trim() !== '') body.timeoutMs = Number(d.timeoutMs);
  const codes = d.expectedStatus
    .split(/[\s,]+/)
    .filter((c) => c !== '')
    .map(Number);
  if (codes.length > 0 || editing) body.expectedStatus = codes;
  body.keyword = d.keyword === '' ? (editing ? null : undefined) : d.keyword;
  body.paused = d.paused;
  return JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
}

const FIELD_OF: Record<string, keyof Draft> = {
  name: 'name',
  url: 'url',
  intervalMs: 'intervalS',
  timeoutMs: 'timeoutMs',
  expectedStatus: 'expectedStatus',
  keyword: 'keyword',
  paused: 'paused',
};

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
      for (const [path, message] of Object.entries(err.byField())) {
        const field = FIELD_OF[path];
        if (field) next[field] = message;
      }
      if (err.code === 'TARGET_NOT_ALLOWED') next.url = err.message;
      setErrors(next);
      if (Object.keys(next).length === 0) setGeneral(err.message);
    } finally {
      setBusy(false);
    }
  };

  const prefix = editing ? `edit-${site.id.slice(0, 8)}` : 'new-site';
  const input = (k: keyof Draft, label: string, props: Record<string, unknown>, hint?: string) => {
    const id = `${prefix}-${k}`;
    return (
      <Field id={id} label={label} error={errors[k]} hint={hint}>
        <input
          id={id}
          name={k}
          value={d[k] as string}
          onInput={set(k)}
          aria-invalid={errors[k] ? 'true' : undefined}
          aria-describedby={describedBy(id, errors[k], hint)}
          {...props}
        />
      </Field>
    );
  };

  return (
    <form
      class="panel site-form"
      onSubmit={(e) => void submit(e)}
      aria-label={editing ? `Edit ${site.name}` : 'Add a site'}
      noValidate
    >
      <h2>{editing ? `Edit ${site.name}` : 'Add a site'}</h2>
      <div class="grid">
        {input('url', 'URL', {
          type: 'url',
          required: true,
          placeholder: 'https://example.com/health',
        })}
        {input('name', 'Name', { type: 'text', placeholder: 'defaults to the host' })}
        {input(
          'intervalS',
          'Check every (seconds)',
          { type: 'number', min: 10, step: 1 },
          '10 s to 24 h',
        )}
        {input(
          'timeoutMs',
          'Timeout (ms)',
          { type: 'number', min: 500, step: 100 },
          'default: min(10 s, interval / 2)',
        )}
        {input(
          'expectedStatus',
          'Accepted HTTP status codes',
          { type: 'text', placeholder: 'any 2xx' },
          'comma-separated, e.g. 200, 204',
        )}
        {input('keyword', 'Keyword in body', { type: 'text', placeholder: 'optional' })}
      </div>
      <div class="field field-inline">
        <input
          id={`${prefix}-paused`}
          type="checkbox"
          checked={d.paused}
          onChange={set('paused')}
        />
        <label for={`${prefix}-paused`}>Paused</label>
      </div>
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
