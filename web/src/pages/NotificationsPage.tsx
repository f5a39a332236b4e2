// Where alerts go: notification channels (create per type, enable/disable, test, delete), the
// delivery log, and maintenance windows that hold a site's alerts. Channel secrets are
// write-only: the form forgets them once saved and the list never shows them.
import { useEffect, useState } from 'preact/hooks';
import { ConfirmAction } from '../components/ConfirmAction';
import { Input, issuesOf, Select } from '../components/Field';
import { api, ApiError } from '../lib/api';
import { time } from '../lib/format';
import { sites } from '../lib/sites-store';
import { useStore } from '../lib/store';
import type {
  AlertKind,
  Channel,
  ChannelType,
  Delivery,
  MaintenanceWindow,
  TestResult,
} from '../lib/types';

interface SettingField {
  key: string;
  label: string;
  secret: boolean;
  required: boolean;
  type?: string;
  placeholder?: string;
  hint?: string;
  options?: readonly (readonly [string, string])[];
}

const TYPE_LABEL: Record<ChannelType, string> = {
  WEBHOOK: 'Webhook',
  SLACK: 'Slack',
  DISCORD: 'Discord',
  TELEGRAM: 'Telegram',
  PAGERDUTY: 'PagerDuty',
  MATTERMOST: 'Mattermost',
};

const incomingWebhook = (hint: string): SettingField => ({
  key: 'webhookUrl',
  label: 'Incoming webhook URL',
  secret: true,
  required: true,
  type: 'url',
  hint,
});

const FIELDS: Record<ChannelType, SettingField[]> = {
  WEBHOOK: [
    {
      key: 'url',
      label: 'Webhook URL',
      secret: false,
      required: true,
      type: 'url',
      placeholder: 'https://hooks.example.com/uptime',
    },
    {
      key: 'signingSecret',
      label: 'Signing secret',
      secret: true,
      required: true,
      type: 'password',
      hint: 'at least 16 characters; signs X-Uptime-Signature (HMAC-SHA256)',
    },
    {
      key: 'timeoutMs',
      label: 'Timeout (ms)',
      secret: false,
      required: false,
      type: 'number',
      placeholder: 'default',
    },
  ],
  SLACK: [incomingWebhook('Slack app → Incoming Webhooks')],
  DISCORD: [incomingWebhook('Channel settings → Integrations → Webhooks')],
  TELEGRAM: [
    {
      key: 'botToken',
      label: 'Bot token',
      secret: true,
      required: true,
      type: 'password',
      placeholder: '123456:ABC…',
    },
    {
      key: 'chatId',
      label: 'Chat id',
      secret: false,
      required: true,
      placeholder: '-1001234567890 or @channel',
    },
  ],
  PAGERDUTY: [
    {
      key: 'routingKey',
      label: 'Integration (routing) key',
      secret: true,
      required: true,
      type: 'password',
      hint: '32 characters, Events API v2',
    },
    {
      key: 'severity',
      label: 'Severity',
      secret: false,
      required: false,
      options: [
        ['', 'default'],
        ['critical', 'critical'],
        ['error', 'error'],
        ['warning', 'warning'],
        ['info', 'info'],
      ],
    },
  ],
  MATTERMOST: [
    incomingWebhook('Integrations → Incoming Webhooks'),
    { key: 'channel', label: 'Channel', secret: false, required: false, placeholder: 'default' },
    { key: 'username', label: 'Post as', secret: false, required: false, placeholder: 'default' },
  ],
};

const KINDS: AlertKind[] = ['DOWN', 'RECOVERED', 'REGION_DOWN', 'REGION_RECOVERED'];
const KIND_TEXT: Record<AlertKind, string> = {
  DOWN: 'down',
  RECOVERED: 'recovered',
  REGION_DOWN: 'region down',
  REGION_RECOVERED: 'region recovered',
};

export default function NotificationsPage() {
  const [channels, setChannels] = useState<Channel[] | null>(null);
  const [deliveries, setDeliveries] = useState<Delivery[] | null>(null);
  const [windows, setWindows] = useState<MaintenanceWindow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const reload = () => setTick((t) => t + 1);

  useEffect(() => {
    const ac = new AbortController();
    const get = <T,>(p: string) => api<T>(p, { signal: ac.signal });
    Promise.all([
      get<{ items: Channel[] }>('/api/notifications/channels'),
      get<{ items: Delivery[] }>('/api/notifications/deliveries?limit=20'),
      get<{ items: MaintenanceWindow[] }>('/api/maintenance-windows'),
    ])
      .then(([c, d, m]) => {
        setChannels(c.items);
        setDeliveries(d.items);
        setWindows(m.items);
        setError(null);
      })
      .catch((e: unknown) => {
        if ((e as Error).name !== 'AbortError') setError((e as Error).message);
      });
    return () => ac.abort();
  }, [tick]);

  return (
    <>
      <div class="page-head">
        <h1>Notifications</h1>
      </div>
      <nav class="subnav" aria-label="On this page">
        <a href="#channels-h">Channels</a>
        <a href="#deliveries-h">Delivery log</a>
        <a href="#maintenance-h">Maintenance windows</a>
      </nav>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <section class="panel" aria-labelledby="channels-h">
        <h2 id="channels-h">Channels</h2>
        {channels === null ? (
          <p class="loading">Loading…</p>
        ) : (
          <Channels items={channels} onChanged={reload} />
        )}
      </section>
      <section class="panel" aria-labelledby="deliveries-h">
        <h2 id="deliveries-h">Delivery log</h2>
        {deliveries === null ? <p class="loading">Loading…</p> : <Deliveries items={deliveries} />}
        <button type="button" onClick={reload}>
          Refresh
        </button>
      </section>
      <section class="panel" aria-labelledby="maintenance-h">
        <h2 id="maintenance-h">Maintenance windows</h2>
        <p class="muted">
          While a window is on, the site&rsquo;s alerts are held; one still DOWN when it ends alerts
          then.
        </p>
        {windows === null ? (
          <p class="loading">Loading…</p>
        ) : (
          <Maintenance items={windows} onChanged={reload} />
        )}
      </section>
    </>
  );
}

function Channels({ items, onChanged }: { items: Channel[]; onChanged: () => void }) {
  const [adding, setAdding] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const act = async (c: Channel, what: 'toggle' | 'test' | 'delete') => {
    setBusy(c.id);
    setNotice(null);
    try {
      if (what === 'toggle') {
        await api(`/api/notifications/channels/${c.id}`, {
          method: 'PUT',
          body: { enabled: !c.enabled },
        });
        setNotice(`${c.name} ${c.enabled ? 'disabled' : 'enabled'}.`);
      } else if (what === 'test') {
        const r = await api<TestResult>(`/api/notifications/channels/${c.id}/test`, {
          method: 'POST',
        });
        setNotice(
          r.delivered
            ? `Test sent to ${c.name}: accepted (${r.statusCode ?? 'ok'}, ${r.ms} ms).`
            : `Test to ${c.name} failed: ${r.error ?? `status ${r.statusCode}`}.`,
        );
      } else {
        await api(`/api/notifications/channels/${c.id}`, { method: 'DELETE' });
        setNotice(`Deleted ${c.name}.`);
        setConfirming(null);
      }
      onChanged();
    } catch (e) {
      setNotice((e as Error).message);
    } finally {
      setBusy(null);
    }
  };

  return (
    <>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {items.length === 0 ? (
        <p class="empty">No channels yet: alerts go nowhere but the dashboard.</p>
      ) : (
        <table class="table channels">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Settings</th>
              <th scope="col">Gets</th>
              <th scope="col">State</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {items.map((c) => (
              <tr key={c.id} data-channel-id={c.id}>
                <td>{c.name}</td>
                <td>{TYPE_LABEL[c.type]}</td>
                <td>
                  <Settings c={c} />
                </td>
                <td>{c.defaultKinds.map((k) => KIND_TEXT[k]).join(', ') || 'per-site only'}</td>
                <td>
                  {!c.enabled ? (
                    'disabled'
                  ) : c.state === 'FAILING' ? (
                    <span class="state-failing" title={c.lastError ?? undefined}>
                      failing since {time(c.failingSince)}
                    </span>
                  ) : (
                    'ok'
                  )}
                </td>
                <td class="row-actions">
                  <ConfirmAction
                    asking={confirming === c.id}
                    verb="Delete"
                    name={c.name}
                    disabled={busy === c.id}
                    onAsk={() => setConfirming(c.id)}
                    onKeep={() => setConfirming(null)}
                    onConfirm={() => void act(c, 'delete')}
                  >
                    <button
                      type="button"
                      disabled={busy === c.id}
                      onClick={() => void act(c, 'test')}
                      aria-label={`Send test to ${c.name}`}
                    >
                      Send test
                    </button>
                    <button
                      type="button"
                      disabled={busy === c.id}
                      onClick={() => void act(c, 'toggle')}
                      aria-label={`${c.enabled ? 'Disable' : 'Enable'} ${c.name}`}
                    >
                      {c.enabled ? 'Disable' : 'Enable'}
                    </button>
                  </ConfirmAction>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {adding ? (
        <ChannelForm
          onCancel={() => setAdding(false)}
          onSaved={(c) => {
            setAdding(false);
            setNotice(`Added ${c.name}.`);
            onChanged();
          }}
        />
      ) : (
        <div class="actions">
          <button type="button" class="primary" onClick={() => setAdding(true)}>
            Add channel
          </button>
        </div>
      )}
    </>
  );
}

/** Public settings as they are; secrets only as "set" (the API masks them anyway). */
function Settings({ c }: { c: Channel }) {
  const fields = FIELDS[c.type];
  const shown = fields.filter((f) => c.settings[f.key] !== undefined);
  if (shown.length === 0) return <span class="muted">—</span>;
  return (
    <span class="settings">
      {shown.map((f, i) => (
        <span key={f.key}>
          {i > 0 && ' · '}
          {f.label.toLowerCase()}:{' '}
          {f.secret ? <em>set, hidden</em> : <span class="url">{String(c.settings[f.key])}</span>}
        </span>
      ))}
    </span>
  );
}

function ChannelForm({
  onSaved,
  onCancel,
}: {
  onSaved: (c: Channel) => void;
  onCancel: () => void;
}) {
  const [type, setType] = useState<ChannelType>('WEBHOOK');
  const [name, setName] = useState('');
  const [values, setValues] = useState<Record<string, string>>({});
  const [kinds, setKinds] = useState<AlertKind[]>(['DOWN', 'RECOVERED']);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setGeneral(null);
    const settings: Record<string, unknown> = {};
    for (const f of FIELDS[type]) {
      const v = (values[f.key] ?? '').trim();
      if (v === '') continue;
      settings[f.key] = f.type === 'number' && !isNaN(Number(v)) ? Number(v) : v;
    }
    try {
      const c = await api<Channel>('/api/notifications/channels', {
        method: 'POST',
        body: { name: name.trim(), type, settings, defaultKinds: kinds },
      });
      setValues({}); // the secrets leave the page with the form
      onSaved(c);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const next = issuesOf(err.details, 'settings.');
      if (err.code === 'TARGET_NOT_ALLOWED') {
        const urlField = FIELDS[type].find((f) => f.type === 'url');
        if (urlField) next[urlField.key] = err.message;
      }
      setErrors(next);
      const known = new Set(['name', 'defaultKinds', ...FIELDS[type].map((f) => f.key)]);
      const other = Object.entries(next).filter(([k]) => !known.has(k));
      if (Object.keys(next).length === 0) setGeneral(err.message);
      else if (other.length > 0) setGeneral(other.map(([k, m]) => `${k}: ${m}`).join('; '));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="panel" aria-label="Add a channel" onSubmit={(e) => void submit(e)} noValidate>
      <h3>Add a channel</h3>
      <div class="grid">
        <Select
          id="ch-type"
          label="Type"
          value={type}
          onValue={(v) => {
            setType(v as ChannelType);
            setValues({});
            setErrors({});
          }}
          options={Object.entries(TYPE_LABEL)}
        />
        <Input
          id="ch-name"
          label="Channel name"
          value={name}
          onValue={setName}
          error={errors.name}
          required
          placeholder="e.g. on-call"
        />
        {FIELDS[type].map((f) =>
          f.options ? (
            <Select
              key={`${type}-${f.key}`}
              id={`ch-${f.key}`}
              label={f.label}
              value={values[f.key] ?? ''}
              onValue={(v) => setValues({ ...values, [f.key]: v })}
              options={f.options}
              error={errors[f.key]}
            />
          ) : (
            <Input
              key={`${type}-${f.key}`}
              id={`ch-${f.key}`}
              label={f.label}
              value={values[f.key] ?? ''}
              onValue={(v) => setValues({ ...values, [f.key]: v })}
              error={errors[f.key]}
              hint={
                f.secret
                  ? `${f.hint ? `${f.hint}; ` : ''}write-only: not shown after saving`
                  : f.hint
              }
              type={f.type ?? 'text'}
              placeholder={f.placeholder}
              required={f.required}
              autocomplete={f.secret ? 'off' : undefined}
            />
          ),
        )}
      </div>
      <fieldset class="kinds">
        <legend>Alerts it gets (sites without their own routing)</legend>
        {KINDS.map((k) => (
          <label key={k} class="kind">
            <input
              type="checkbox"
              checked={kinds.includes(k)}
              onChange={(e) =>
                setKinds(e.currentTarget.checked ? [...kinds, k] : kinds.filter((x) => x !== k))
              }
            />
            {KIND_TEXT[k]}
          </label>
        ))}
      </fieldset>
      {general && (
        <p class="error" role="alert">
          {general}
        </p>
      )}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Save channel
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function Deliveries({ items }: { items: Delivery[] }) {
  const st = useStore(sites);
  if (items.length === 0) return <p class="empty">No alerts delivered yet.</p>;
  return (
    <table class="table deliveries">
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Site</th>
          <th scope="col">Alert</th>
          <th scope="col">Channel</th>
          <th scope="col">Status</th>
          <th scope="col" class="num">
            Attempts
          </th>
          <th scope="col">Last answer</th>
        </tr>
      </thead>
      <tbody>
        {items.map((d) => (
          <tr key={d.id}>
            <td>{time(d.createdAt)}</td>
            <td>{st.byId.get(d.siteId)?.name ?? d.siteId.slice(0, 8)}</td>
            <td>
              {KIND_TEXT[d.kind]}
              {d.reminder > 0 && ` (reminder ${d.reminder})`}
            </td>
            <td>{d.channel.name}</td>
            <td>
              {d.status.toLowerCase()}
              {d.status === 'PENDING' && d.nextAttemptAt && `, next ${time(d.nextAttemptAt)}`}
            </td>
            <td class="num">{d.attempts}</td>
            <td>{d.lastError ?? (d.lastStatusCode !== null ? `HTTP ${d.lastStatusCode}` : '—')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function schedule(m: MaintenanceWindow): string {
  if (m.cron) return `cron "${m.cron}" (${m.timeZone ?? 'UTC'}), ${m.durationMinutes} min each`;
  return `${time(m.startsAt)} – ${time(m.endsAt)}`;
}

function Maintenance({ items, onChanged }: { items: MaintenanceWindow[]; onChanged: () => void }) {
  const st = useStore(sites);
  const [adding, setAdding] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);

  const remove = async (m: MaintenanceWindow) => {
    try {
      await api(`/api/maintenance-windows/${m.id}`, { method: 'DELETE' });
      setNotice(`Deleted ${m.title}.`);
      setConfirming(null);
      onChanged();
    } catch (e) {
      setNotice((e as Error).message);
    }
  };

  return (
    <>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {items.length === 0 ? (
        <p class="empty">No maintenance planned.</p>
      ) : (
        <table class="table maintenance">
          <thead>
            <tr>
              <th scope="col">Title</th>
              <th scope="col">Site</th>
              <th scope="col">When</th>
              <th scope="col">Now / next</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {items.map((m) => (
              <tr key={m.id} data-window-id={m.id}>
                <td>{m.title}</td>
                <td>
                  {m.siteId ? (st.byId.get(m.siteId)?.name ?? m.siteId.slice(0, 8)) : 'status page'}
                </td>
                <td>{schedule(m)}</td>
                <td>
                  {m.activeNow ? (
                    <strong>on until {time(m.activeNow.end)}</strong>
                  ) : m.upcoming[0] ? (
                    `next ${time(m.upcoming[0].start)}`
                  ) : (
                    'none ahead'
                  )}
                </td>
                <td class="row-actions">
                  <ConfirmAction
                    asking={confirming === m.id}
                    verb="Delete"
                    name={m.title}
                    onAsk={() => setConfirming(m.id)}
                    onKeep={() => setConfirming(null)}
                    onConfirm={() => void remove(m)}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {adding ? (
        <MaintenanceForm
          onCancel={() => setAdding(false)}
          onSaved={(m) => {
            setAdding(false);
            setNotice(`Planned ${m.title}.`);
            onChanged();
          }}
        />
      ) : (
        <div class="actions">
          <button type="button" class="primary" onClick={() => setAdding(true)}>
            Plan maintenance
          </button>
        </div>
      )}
    </>
  );
}

/** A datetime-local value ("2026-12-01T22:00") an hour or more from now, in local time. */
function localInput(offsetMs: number): string {
  const d = new Date(Date.now() + offsetMs);
  d.setSeconds(0, 0);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

function MaintenanceForm({
  onSaved,
  onCancel,
}: {
  onSaved: (m: MaintenanceWindow) => void;
  onCancel: () => void;
}) {
  const st = useStore(sites);
  const siteOptions = st.order
    .map((id) => st.byId.get(id))
    .filter((s) => s !== undefined)
    .map((s) => [s.id, s.name] as const);
  const [title, setTitle] = useState('');
  const [siteId, setSiteId] = useState(siteOptions[0]?.[0] ?? '');
  const [mode, setMode] = useState<'once' | 'recurring'>('once');
  const [startsAt, setStartsAt] = useState(() => localInput(3_600_000));
  const [endsAt, setEndsAt] = useState(() => localInput(2 * 3_600_000));
  const [cron, setCron] = useState('0 2 * * 0');
  const [durationMinutes, setDuration] = useState('60');
  const [timeZone, setTimeZone] = useState(
    () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC',
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const iso = (local: string) => {
    const d = new Date(local);
    return isNaN(d.getTime()) ? local : d.toISOString();
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setGeneral(null);
    const body: Record<string, unknown> = { title: title.trim() };
    if (siteId) body.siteId = siteId;
    if (mode === 'once') {
      body.startsAt = iso(startsAt);
      body.endsAt = iso(endsAt);
    } else {
      body.cron = cron.trim();
      body.durationMinutes = Number(durationMinutes);
      body.timeZone = timeZone.trim();
    }
    try {
      onSaved(await api<MaintenanceWindow>('/api/maintenance-windows', { method: 'POST', body }));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const next = issuesOf(err.details);
      if (err.status === 404) next.siteId = err.message;
      setErrors(next);
      if (Object.keys(next).length === 0) setGeneral(err.message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="panel" aria-label="Plan maintenance" onSubmit={(e) => void submit(e)} noValidate>
      <h3>Plan maintenance</h3>
      <fieldset class="kinds">
        <legend>Schedule</legend>
        <label class="kind">
          <input
            type="radio"
            name="mw-mode"
            checked={mode === 'once'}
            onChange={() => setMode('once')}
          />
          One-off
        </label>
        <label class="kind">
          <input
            type="radio"
            name="mw-mode"
            checked={mode === 'recurring'}
            onChange={() => setMode('recurring')}
          />
          Recurring
        </label>
      </fieldset>
      <div class="grid">
        <Input
          id="mw-title"
          label="Title"
          value={title}
          onValue={setTitle}
          error={errors.title}
          required
          placeholder="e.g. database upgrade"
        />
        <Select
          id="mw-site"
          label="Site"
          value={siteId}
          onValue={setSiteId}
          error={errors.siteId}
          options={siteOptions.length > 0 ? siteOptions : [['', 'no sites yet']]}
        />
        {mode === 'once' ? (
          <>
            <Input
              id="mw-starts"
              label="Starts"
              type="datetime-local"
              value={startsAt}
              onValue={setStartsAt}
              error={errors.startsAt}
              hint="your local time"
            />
            <Input
              id="mw-ends"
              label="Ends"
              type="datetime-local"
              value={endsAt}
              onValue={setEndsAt}
              error={errors.endsAt}
              hint="at most 30 days after the start"
            />
          </>
        ) : (
          <>
            <Input
              id="mw-cron"
              label="Starts on (cron)"
              value={cron}
              onValue={setCron}
              error={errors.cron}
              hint='five fields, e.g. "0 2 * * 0" is Sundays 02:00'
            />
            <Input
              id="mw-duration"
              label="Lasts (minutes)"
              type="number"
              min={1}
              value={durationMinutes}
              onValue={setDuration}
              error={errors.durationMinutes}
            />
            <Input
              id="mw-tz"
              label="Time zone"
              value={timeZone}
              onValue={setTimeZone}
              error={errors.timeZone}
              hint="IANA name, e.g. Europe/Berlin"
            />
          </>
        )}
      </div>
      {mode === 'once' && errors.cron && (
        <p class="error" role="alert">
          {errors.cron}
        </p>
      )}
      {general && (
        <p class="error" role="alert">
          {general}
        </p>
      )}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Save window
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
