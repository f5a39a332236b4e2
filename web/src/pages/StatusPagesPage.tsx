// The user's public status pages: create, edit, delete; pick sites from the account's list.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { describedBy, Field } from '../components/Field';
import { api, ApiError } from '../lib/api';
import { sites } from '../lib/sites-store';
import { useStore } from '../lib/store';
import type { StatusPage } from '../lib/types';

interface Draft {
  slug: string;
  title: string;
  description: string;
  showUrls: boolean;
  siteIds: string[];
}

const PICK_LIMIT = 50;

export default function StatusPagesPage() {
  const [pages, setPages] = useState<StatusPage[] | null>(null);
  const [editing, setEditing] = useState<StatusPage | 'new' | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const load = () =>
    api<{ items: StatusPage[] }>('/api/status-pages').then((r) => setPages(r.items));
  useEffect(() => {
    void load().catch((e: unknown) => setNotice((e as Error).message));
  }, []);

  return (
    <>
      <div class="page-head">
        <h1>Status pages</h1>
        <button type="button" class="primary grow" onClick={() => setEditing('new')}>
          New status page
        </button>
      </div>
      <p class="muted">
        A status page shows the sites you choose to anyone, at /status/&lt;slug&gt;, with their
        state per region, incidents and 90 days of uptime. Sites on a page also get badges.
      </p>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {editing && (
        <PageForm
          key={editing === 'new' ? 'new' : editing.id}
          page={editing === 'new' ? undefined : editing}
          onCancel={() => setEditing(null)}
          onSaved={(p) => {
            setEditing(null);
            setNotice(`Saved ${p.title}: public at ${p.publicPath}.`);
            void load();
          }}
        />
      )}
      {pages === null ? (
        <p class="loading">Loading…</p>
      ) : pages.length === 0 ? (
        <p class="empty">No status pages yet.</p>
      ) : (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Title</th>
              <th scope="col">Public page</th>
              <th scope="col" class="num">
                Sites
              </th>
              <th scope="col">URLs shown</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {pages.map((p) => (
              <tr key={p.id}>
                <td>{p.title}</td>
                <td>
                  <a href={p.publicPath}>{p.publicPath}</a>
                </td>
                <td class="num">{p.siteIds.length}</td>
                <td>{p.showUrls ? 'yes' : 'no'}</td>
                <td class="row-actions">
                  <button
                    type="button"
                    aria-label={`Edit ${p.title}`}
                    onClick={() => setEditing(p)}
                  >
                    Edit
                  </button>
                  <button
                    type="button"
                    aria-label={`Delete ${p.title}`}
                    onClick={() =>
                      void api(`/api/status-pages/${p.id}`, { method: 'DELETE' })
                        .then(() => {
                          setNotice(`Deleted ${p.title}.`);
                          return load();
                        })
                        .catch((e: unknown) => setNotice((e as Error).message))
                    }
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function PageForm({
  page,
  onSaved,
  onCancel,
}: {
  page?: StatusPage;
  onSaved: (p: StatusPage) => void;
  onCancel: () => void;
}) {
  const st = useStore(sites);
  const [d, setD] = useState<Draft>({
    slug: page?.slug ?? '',
    title: page?.title ?? '',
    description: page?.description ?? '',
    showUrls: page?.showUrls ?? false,
    siteIds: page?.siteIds ?? [],
  });
  const [query, setQuery] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string | null>(null);

  const candidates = useMemo(() => {
    const q = query.trim().toLowerCase();
    const out = [];
    for (const id of st.order) {
      const s = st.byId.get(id);
      if (!s || d.siteIds.includes(id)) continue;
      if (q && !s.name.toLowerCase().includes(q) && !s.url.toLowerCase().includes(q)) continue;
      out.push(s);
      if (out.length >= PICK_LIMIT) break;
    }
    return out;
  }, [st.version, query, d.siteIds]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    setGeneral(null);
    const body = {
      slug: d.slug.trim(),
      title: d.title.trim(),
      description: d.description.trim() === '' ? null : d.description.trim(),
      showUrls: d.showUrls,
      siteIds: d.siteIds,
    };
    try {
      onSaved(
        page
          ? await api<StatusPage>(`/api/status-pages/${page.id}`, { method: 'PUT', body })
          : await api<StatusPage>('/api/status-pages', { method: 'POST', body }),
      );
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const f = err.byField();
      setErrors(f);
      if (Object.keys(f).length === 0) setGeneral(err.message);
    }
  };

  const text = (k: 'slug' | 'title' | 'description', label: string, hint?: string) => {
    const id = `page-${k}`;
    return (
      <Field id={id} label={label} error={errors[k]} hint={hint}>
        <input
          id={id}
          type="text"
          value={d[k]}
          onInput={(e) => setD({ ...d, [k]: e.currentTarget.value })}
          aria-invalid={errors[k] ? 'true' : undefined}
          aria-describedby={describedBy(id, errors[k], hint)}
        />
      </Field>
    );
  };

  return (
    <form
      class="panel"
      onSubmit={(e) => void submit(e)}
      aria-label={page ? `Edit ${page.title}` : 'New status page'}
      noValidate
    >
      <h2>{page ? `Edit ${page.title}` : 'New status page'}</h2>
      <div class="grid">
        {text('title', 'Title')}
        {text('slug', 'Slug', 'lowercase letters, digits and hyphens; the page is /status/<slug>')}
        {text('description', 'Description (optional)')}
      </div>
      <div class="field field-inline">
        <input
          id="page-show-urls"
          type="checkbox"
          checked={d.showUrls}
          onChange={(e) => setD({ ...d, showUrls: e.currentTarget.checked })}
        />
        <label for="page-show-urls">Show the sites’ URLs on the public page</label>
      </div>
      <fieldset class="picker">
        <legend>Sites on the page ({d.siteIds.length})</legend>
        {errors.siteIds && (
          <p class="error" role="alert">
            {errors.siteIds}
          </p>
        )}
        <ol class="picked">
          {d.siteIds.map((id) => {
            const s = st.byId.get(id);
            return (
              <li key={id}>
                {s?.name ?? id}{' '}
                <button
                  type="button"
                  class="link"
                  aria-label={`Remove ${s?.name ?? id}`}
                  onClick={() => setD({ ...d, siteIds: d.siteIds.filter((x) => x !== id) })}
                >
                  remove
                </button>
              </li>
            );
          })}
        </ol>
        <label for="page-site-search">Find a site to add</label>
        <input
          id="page-site-search"
          type="search"
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
          placeholder="name or URL"
        />
        <ul class="candidates">
          {candidates.map((s) => (
            <li key={s.id}>
              <button
                type="button"
                class="link"
                aria-label={`Add ${s.name}`}
                onClick={() => setD({ ...d, siteIds: [...d.siteIds, s.id] })}
              >
                + {s.name}
              </button>{' '}
              <span class="muted">{s.url}</span>
            </li>
          ))}
        </ul>
      </fieldset>
      {general && (
        <p class="error" role="alert">
          {general}
        </p>
      )}
      <div class="actions">
        <button type="submit" class="primary">
          {page ? 'Save' : 'Create page'}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
