// API keys for scripts and CI: create one (name, read or write scope, expiry), see it once,
// list them with their last use, revoke. Managing keys needs a login session (the API says so).
import { useEffect, useState } from 'preact/hooks';
import { ConfirmAction } from '../components/ConfirmAction';
import { Input, issuesOf, Select } from '../components/Field';
import { OneTimeSecret } from '../components/OneTimeSecret';
import { api, ApiError } from '../lib/api';
import { ago, time } from '../lib/format';
import type { ApiKey } from '../lib/types';

const EXPIRY: [string, string][] = [
  ['7', '7 days'],
  ['30', '30 days'],
  ['90', '90 days'],
  ['180', '180 days'],
  ['366', '366 days (the most)'],
];

export default function ApiKeysPage() {
  const [items, setItems] = useState<ApiKey[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const [issued, setIssued] = useState<{ name: string; key: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);

  const [name, setName] = useState('');
  const [scope, setScope] = useState<'read' | 'write'>('read');
  const [days, setDays] = useState('90');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const ac = new AbortController();
    api<{ items: ApiKey[] }>('/api/api-keys', { signal: ac.signal })
      .then((r) => {
        setItems(r.items);
        setError(null);
      })
      .catch((e: unknown) => {
        if ((e as Error).name !== 'AbortError') setError((e as Error).message);
      });
    return () => ac.abort();
  }, [tick]);

  const create = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setNotice(null);
    try {
      const expiresAt = new Date(Date.now() + Number(days) * 86_400_000).toISOString();
      const k = await api<ApiKey & { key: string }>('/api/api-keys', {
        method: 'POST',
        body: { name: name.trim(), scope, expiresAt },
      });
      setIssued({ name: k.name, key: k.key });
      setName('');
      setTick((t) => t + 1);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const next = issuesOf(err.details);
      if (err.status === 409) next.name = err.message;
      if (Object.keys(next).length === 0) setNotice(err.message);
      setErrors(next);
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (k: ApiKey) => {
    try {
      await api(`/api/api-keys/${k.id}`, { method: 'DELETE' });
      setNotice(`Revoked ${k.name}: it is refused from now on.`);
      setConfirming(null);
      setTick((t) => t + 1);
    } catch (e) {
      setNotice((e as Error).message);
    }
  };

  return (
    <>
      <div class="page-head">
        <h1>API keys</h1>
      </div>
      <p class="muted">
        A key calls the REST API as you (<code>Authorization: Bearer uk_…</code>), limited by its
        scope: <strong>read</strong> may only GET; <strong>write</strong> may do what you may.
      </p>
      {issued && (
        <OneTimeSecret
          title={`API key ${issued.name}`}
          label="Key"
          value={issued.key}
          example={`curl -fsS -H "Authorization: Bearer ${issued.key}" ${location.origin}/api/websites`}
          onDone={() => setIssued(null)}
        />
      )}
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <form
        class="panel"
        aria-label="Create an API key"
        onSubmit={(e) => void create(e)}
        noValidate
      >
        <h2>Create a key</h2>
        <div class="grid">
          <Input
            id="key-name"
            label="Key name"
            value={name}
            onValue={setName}
            error={errors.name}
            required
            placeholder="e.g. ci-deploy"
          />
          <Select
            id="key-scope"
            label="Scope"
            value={scope}
            onValue={(v) => setScope(v as 'read' | 'write')}
            error={errors.scope}
            options={[
              ['read', 'read (GET only)'],
              ['write', 'write (everything)'],
            ]}
          />
          <Select
            id="key-expiry"
            label="Expires in"
            value={days}
            onValue={setDays}
            error={errors.expiresAt}
            options={EXPIRY}
          />
        </div>
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            Create key
          </button>
        </div>
      </form>
      <section class="panel" aria-labelledby="keys-h">
        <h2 id="keys-h">Your keys</h2>
        {items === null ? (
          <p class="loading">Loading…</p>
        ) : items.length === 0 ? (
          <p class="empty">No API keys.</p>
        ) : (
          <table class="table keys">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Scope</th>
                <th scope="col">Starts with</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {items.map((k) => (
                <tr key={k.id} data-key-id={k.id}>
                  <td>{k.name}</td>
                  <td>{k.scope}</td>
                  <td>
                    <code>{k.hint}…</code>
                  </td>
                  <td>{time(k.createdAt)}</td>
                  <td>{k.expired ? <strong>expired</strong> : time(k.expiresAt)}</td>
                  <td>{k.lastUsedAt ? ago(k.lastUsedAt) : 'never'}</td>
                  <td class="row-actions">
                    <ConfirmAction
                      asking={confirming === k.id}
                      verb="Revoke"
                      name={k.name}
                      onAsk={() => setConfirming(k.id)}
                      onKeep={() => setConfirming(null)}
                      onConfirm={() => void revoke(k)}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
