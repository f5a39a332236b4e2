// Public status pages and badges over HTTP against a real PostgreSQL: the owner's CRUD with its
// validation, the unauthenticated public view (only the page's sites, no URL unless opted in,
// nothing of the owner), and SVG badges for public sites only. Cross-user isolation is checked
// both through the API and with a row planted directly in the database that names another
// user's site, which every public read must still ignore.
import { createTestApp, TestApp } from '../support/app';
import { seedSites, userIdOf, withClient } from '../browser/support/seed';
import { Api, expectError, fieldPaths, ids } from './api-helpers';

jest.setTimeout(120_000);

describe('status pages and badges API', () => {
  let t: TestApp;
  let api: Api;
  let alice: string;
  let bob: string;
  let aliceSites: string[];
  let bobSites: string[];
  let pageId: string;

  beforeAll(async () => {
    t = await createTestApp();
    api = new Api(t);
    alice = await api.signup('alice@pages.test');
    bob = await api.signup('bob@pages.test');
    // 3 sites each: the 3rd of alice's is DOWN, the 2nd has a region DOWN
    aliceSites = await seedSites(t.db.url, {
      ownerId: await userIdOf(t.db.url, 'alice@pages.test'),
      count: 3,
      prefix: 'Alice',
      url: 'http://127.0.0.1:9/alice-secret-path',
      downEvery: 3,
      regionDownEvery: 2,
    });
    bobSites = await seedSites(t.db.url, {
      ownerId: await userIdOf(t.db.url, 'bob@pages.test'),
      count: 2,
      prefix: 'Bob',
      url: 'http://127.0.0.1:9/bob-private',
    });
  });
  afterAll(async () => {
    expect(api?.serverErrors()).toEqual([]);
    await t?.close();
  });

  describe('owner CRUD', () => {
    it('creates a page of my own sites and lists it for me only', async () => {
      const res = await api.post(
        '/api/status-pages',
        { slug: 'alice-co', title: 'Alice Co', siteIds: [aliceSites[2], aliceSites[0]] },
        alice,
      );
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        slug: 'alice-co',
        title: 'Alice Co',
        description: null,
        showUrls: false,
        siteIds: [aliceSites[2], aliceSites[0]],
        publicPath: '/status/alice-co',
      });
      pageId = res.body.id;
      expect((await api.get('/api/status-pages', alice)).body.items).toHaveLength(1);
      expect((await api.get('/api/status-pages', bob)).body.items).toEqual([]);
      expectError(await api.get(`/api/status-pages/${pageId}`, bob), 404, 'NOT_FOUND');
      expectError(
        await api.put(`/api/status-pages/${pageId}`, { title: 'x' }, bob),
        404,
        'NOT_FOUND',
      );
      expectError(await api.delete(`/api/status-pages/${pageId}`, bob), 404, 'NOT_FOUND');
      expect((await api.get(`/api/status-pages/${pageId}`, alice)).body.title).toBe('Alice Co');
    });

    it("refuses another user's site as if it did not exist, and changes nothing", async () => {
      const res = await api.post(
        '/api/status-pages',
        { slug: 'sneaky', title: 'Sneaky', siteIds: [aliceSites[0], bobSites[0]] },
        alice,
      );
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(res.body.details).toEqual([{ path: 'siteIds.1', message: 'no such site' }]);
      const upd = await api.put(`/api/status-pages/${pageId}`, { siteIds: [bobSites[1]] }, alice);
      expect(fieldPaths(upd)).toEqual(['siteIds.0']);
      expect((await api.get(`/api/status-pages/${pageId}`, alice)).body.siteIds).toEqual([
        aliceSites[2],
        aliceSites[0],
      ]);
      expectError(await api.get('/api/public/status-pages/sneaky'), 404, 'NOT_FOUND');
    });

    it('validates slug, title and site list with field details', async () => {
      const cases: [unknown, string[]][] = [
        [{ slug: 'A B', title: 'x' }, ['slug']],
        [{ slug: '-ab', title: 'x' }, ['slug']],
        [{ slug: 'ab', title: 'x' }, ['slug']],
        [{ slug: 'okay-slug', title: '' }, ['title']],
        [{ slug: 'okay-slug', title: 'x', siteIds: ['nope'] }, ['siteIds.0']],
        [{ slug: 'okay-slug', title: 'x', siteIds: [aliceSites[0], aliceSites[0]] }, ['siteIds']],
        [{ slug: 'okay-slug', title: 'x', extra: 1 }, ['(body)']],
      ];
      for (const [body, paths] of cases) {
        const res = await api.post('/api/status-pages', body, alice);
        expectError(res, 400, 'VALIDATION_FAILED');
        expect(fieldPaths(res)).toEqual(paths);
      }
      expectError(
        await api.put(`/api/status-pages/${pageId}`, {}, alice),
        400,
        'VALIDATION_FAILED',
      );
      expect((await api.get('/api/status-pages', alice)).body.items).toHaveLength(1);
    });

    it('gives a taken slug a 409, also to another user', async () => {
      const res = await api.post('/api/status-pages', { slug: 'alice-co', title: 'Copy' }, bob);
      expectError(res, 409, 'CONFLICT');
      expect(fieldPaths(res)).toEqual(['slug']);
    });

    it('needs a token; malformed ids are 404', async () => {
      expectError(await api.get('/api/status-pages'), 401, 'UNAUTHENTICATED');
      for (const id of ids.malformed)
        expectError(await api.get(`/api/status-pages/${id}`, alice), 404, 'NOT_FOUND');
    });
  });

  describe('public view', () => {
    it('shows the listed sites with state, bars and uptime, without logging in', async () => {
      const res = await api.get('/api/public/status-pages/alice-co');
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
      const page = res.body;
      expect(page).toMatchObject({ slug: 'alice-co', title: 'Alice Co', state: 'outage' });
      expect(page.sites.map((s: { id: string }) => s.id)).toEqual([aliceSites[2], aliceSites[0]]);
      const [down, up] = page.sites;
      expect(down.status.verdict).toBe('DOWN');
      expect(up.status).toMatchObject({ verdict: 'UP', regions: { 'eu-west': { verdict: 'UP' } } });
      expect(up.days).toHaveLength(90);
      expect(up.days.at(-1).checks).toBe(1440);
      // seeded: 30 failed checks of 1440 on days with d % 11 == 3 (d = 3, 14, 25 in the last 30)
      expect(up.uptime['30d']).toBeCloseTo((100 * (30 * 1440 - 3 * 30)) / (30 * 1440), 2);
      expect(up.uptime['24h']).toBeGreaterThan(99);
    });

    it('leaks no URL, no owner and no other user’s site', async () => {
      const text = JSON.stringify((await api.get('/api/public/status-pages/alice-co')).body);
      expect(text).not.toContain('alice-secret-path');
      expect(text).not.toContain('"url"');
      expect(text).not.toContain('alice@pages.test');
      expect(text).not.toContain(await userIdOf(t.db.url, 'alice@pages.test'));
      for (const id of bobSites) expect(text).not.toContain(id);
      expect(text).not.toContain('Bob');
    });

    it('shows URLs when the owner opts in', async () => {
      expect((await api.put(`/api/status-pages/${pageId}`, { showUrls: true }, alice)).status).toBe(
        200,
      );
      const page = (await api.get('/api/public/status-pages/alice-co')).body;
      expect(page.sites[0].url).toContain('alice-secret-path');
      await api.put(`/api/status-pages/${pageId}`, { showUrls: false }, alice);
      expect(
        (await api.get('/api/public/status-pages/alice-co')).body.sites[0].url,
      ).toBeUndefined();
    });

    it("ignores a row naming another user's site even if one got into the database", async () => {
      await withClient(t.db.url, (c) =>
        c.query(
          'INSERT INTO status_page_sites (page_id, website_id, position) VALUES ($1, $2, 9)',
          [pageId, bobSites[0]],
        ),
      );
      // a write clears the cached view
      await api.put(`/api/status-pages/${pageId}`, { title: 'Alice Co' }, alice);
      const page = (await api.get('/api/public/status-pages/alice-co')).body;
      expect(page.sites.map((s: { id: string }) => s.id)).toEqual([aliceSites[2], aliceSites[0]]);
      expect((await api.get(`/api/status-pages/${pageId}`, alice)).body.siteIds).not.toContain(
        bobSites[0],
      );
      expectError(await api.get(`/api/badge/${bobSites[0]}/status.svg`), 404, 'NOT_FOUND');
      await withClient(t.db.url, (c) =>
        c.query('DELETE FROM status_page_sites WHERE website_id = $1', [bobSites[0]]),
      );
    });

    it('answers 404 for unknown and malformed slugs', async () => {
      expectError(await api.get('/api/public/status-pages/no-such-page'), 404, 'NOT_FOUND');
      expectError(await api.get('/api/public/status-pages/NOT%20A%20SLUG'), 404, 'NOT_FOUND');
    });
  });

  describe('badges', () => {
    it('renders status badges of public sites, cacheable', async () => {
      const down = await api.get(`/api/badge/${aliceSites[2]}/status.svg`);
      expect(down.status).toBe(200);
      expect(down.headers['content-type']).toBe('image/svg+xml; charset=utf-8');
      expect(down.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
      expect(down.headers.etag).toBeDefined();
      const svg = down.body.toString('utf8');
      expect(svg).toMatch(/^<svg /);
      expect(svg).toContain('aria-label="status: down"');
      const up = (await api.get(`/api/badge/${aliceSites[0]}/status.svg`)).body.toString('utf8');
      expect(up).toContain('aria-label="status: up"');
      const again = await t.http
        .get(`/api/badge/${aliceSites[2]}/status.svg`)
        .set('if-none-match', String(down.headers.etag));
      expect(again.status).toBe(304);
    });

    it('renders uptime badges for each window; an unknown window is 400', async () => {
      const res = await api.get(`/api/badge/${aliceSites[0]}/uptime.svg?window=30d`);
      expect(res.status).toBe(200);
      expect(res.body.toString('utf8')).toContain('aria-label="uptime 30d: 99.79%"');
      for (const w of ['24h', '7d', '90d'])
        expect((await api.get(`/api/badge/${aliceSites[0]}/uptime.svg?window=${w}`)).status).toBe(
          200,
        );
      expect(
        (await api.get(`/api/badge/${aliceSites[0]}/uptime.svg`)).body.toString('utf8'),
      ).toContain('uptime 30d');
      expectError(
        await api.get(`/api/badge/${aliceSites[0]}/uptime.svg?window=1y`),
        400,
        'VALIDATION_FAILED',
      );
    });

    it('is 404 for sites on no public page, whoever owns them, and for unknown ids', async () => {
      expectError(await api.get(`/api/badge/${aliceSites[1]}/status.svg`), 404, 'NOT_FOUND');
      for (const id of bobSites) {
        expectError(await api.get(`/api/badge/${id}/status.svg`), 404, 'NOT_FOUND');
        expectError(await api.get(`/api/badge/${id}/uptime.svg`, bob), 404, 'NOT_FOUND');
      }
      expectError(await api.get(`/api/badge/${ids.unknown()}/status.svg`), 404, 'NOT_FOUND');
      expectError(await api.get('/api/badge/not-a-uuid/status.svg'), 404, 'NOT_FOUND');
    });

    it('announces maintenance: in progress first, then upcoming; DOWN in maintenance is not an outage', async () => {
      const iso = (ms: number) => new Date(Date.now() + ms).toISOString();
      // Only the page's owner may link a window to it.
      const foreign = await api.post(
        '/api/maintenance-windows',
        { title: 'x', statusPageId: pageId, startsAt: iso(-60_000), endsAt: iso(3_600_000) },
        bob,
      );
      expectError(foreign, 404, 'NOT_FOUND');
      expect(fieldPaths(foreign)).toEqual(['statusPageId']);
      const upcoming = await api.post(
        '/api/maintenance-windows',
        {
          title: 'Database upgrade',
          statusPageId: pageId,
          startsAt: iso(86_400_000),
          endsAt: iso(90_000_000),
        },
        alice,
      );
      expect(upcoming.status).toBe(201);
      const now = await api.post(
        '/api/maintenance-windows',
        {
          title: 'Router swap',
          siteId: aliceSites[2],
          startsAt: iso(-60_000),
          endsAt: iso(3_600_000),
        },
        alice,
      );
      expect(now.status).toBe(201);
      // a window of a site on no public page of hers stays private
      await api.post(
        '/api/maintenance-windows',
        {
          title: 'Hidden work',
          siteId: aliceSites[1],
          startsAt: iso(-60_000),
          endsAt: iso(60_000),
        },
        alice,
      );
      await api.put(`/api/status-pages/${pageId}`, { title: 'Alice Co' }, alice); // fresh view
      const page = (await api.get('/api/public/status-pages/alice-co')).body;
      expect(page.maintenance).toEqual([
        expect.objectContaining({
          title: 'Router swap',
          activeNow: true,
          siteIds: [aliceSites[2]],
        }),
        expect.objectContaining({ title: 'Database upgrade', activeNow: false, siteIds: [] }),
      ]);
      // the only DOWN site is in a window in progress
      expect(page.state).toBe('maintenance');
      expect(JSON.stringify(page)).not.toContain('Hidden work');
      (globalThis as { upcomingWindow?: string }).upcomingWindow = upcoming.body.id;
    });

    it('stops serving a page and its badges once deleted', async () => {
      expect((await api.delete(`/api/status-pages/${pageId}`, alice)).status).toBe(204);
      // its maintenance window stays (it may hold a site's alerts), unlinked
      const windowId = (globalThis as { upcomingWindow?: string }).upcomingWindow;
      const w = await api.get(`/api/maintenance-windows/${windowId}`, alice);
      expect(w.status).toBe(200);
      expect(w.body.statusPageId).toBeNull();
      expectError(await api.get('/api/public/status-pages/alice-co'), 404, 'NOT_FOUND');
      expectError(await api.get(`/api/badge/${aliceSites[0]}/status.svg`), 404, 'NOT_FOUND');
    });
  });
});
