/**
 * Fixtures for alert tests: users and sites through the API (or SQL for apps without one), and
 * health-alerts payloads as the consensus pipeline will publish them.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { alertDedupKey, AlertKind, HealthAlertV1 } from '@/modules/alerts/alert-events';
import { ChannelType, splitSettings } from '@/modules/notifications/channel-config';
import { signupAndLogin, TestApp } from '../../support/app';

export interface Owner {
  userId: string;
  email: string;
  token: string;
  siteId: string;
  siteName: string;
  siteUrl: string;
}

/** Signs up a user, logs in and registers one site (API path). */
export async function ownerWithSite(
  t: TestApp,
  email: string,
  siteName: string,
  opts: { paused?: boolean } = {},
): Promise<Owner> {
  const token = await signupAndLogin(t, email);
  const siteUrl = `http://127.0.0.1:9/${encodeURIComponent(siteName)}`;
  const res = await t.http
    .post('/api/websites')
    .set('authorization', `Bearer ${token}`)
    // paused: the app's own checks of this (unreachable) URL would raise real DOWN alerts
    .send({ name: siteName, url: siteUrl, intervalMs: 60_000, paused: opts.paused ?? false })
    .expect(201);
  const me = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as {
    sub: string;
  };
  return { userId: me.sub, email, token, siteId: res.body.id, siteName, siteUrl };
}

/** The same through SQL, for databases no API runs on (standalone alert service tests). */
export async function insertOwnerWithSite(dbUrl: string, email: string, siteName: string) {
  const client = new Client({ connectionString: dbUrl });
  await client.connect();
  try {
    const userId = randomUUID();
    const siteId = randomUUID();
    const siteUrl = `http://127.0.0.1:9/${encodeURIComponent(siteName)}`;
    await client.query(
      `INSERT INTO users (id, email, password_hash, updated_at) VALUES ($1, $2, 'x', now())`,
      [userId, email],
    );
    await client.query(
      `INSERT INTO websites (id, owner_id, name, url, interval_ms, timeout_ms, expected_status, updated_at)
       VALUES ($1, $2, $3, $4, 60000, 10000, '{}', now())`,
      [siteId, userId, siteName, siteUrl],
    );
    return { userId, siteId, email, siteName, siteUrl };
  } finally {
    await client.end();
  }
}

let round = 1_000;

export function healthAlert(
  site: { siteId: string; siteUrl: string },
  kind: AlertKind,
  region: string | null,
  overrides: Partial<HealthAlertV1> = {},
): HealthAlertV1 {
  const r = overrides.round ?? round++;
  return {
    v: 1,
    alertId: randomUUID(),
    dedupKey: alertDedupKey({ siteId: site.siteId, round: r, kind, region }),
    siteId: site.siteId,
    url: site.siteUrl,
    kind,
    region,
    round: r,
    decisionLogIndex: r * 10,
    tally: { up: 2, down: 1, total: 3, quorum: 2 },
    at: new Date().toISOString(),
    ...overrides,
  };
}

export async function deliveryRows(dbUrl: string, alertId: string) {
  const client = new Client({ connectionString: dbUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{
      channel: string;
      status: string;
      attempts: number;
      message_id: string | null;
    }>(
      `SELECT channel::text, status::text, attempts, message_id FROM alert_deliveries WHERE alert_id = $1 ORDER BY channel`,
      [alertId],
    );
    return rows;
  } finally {
    await client.end();
  }
}

/** Notification channels straight into the database (for apps without the API). */
export async function insertChannels(
  dbUrl: string,
  ownerId: string,
  channels: { type: ChannelType; name: string; settings: Record<string, unknown> }[],
): Promise<Record<string, string>> {
  const client = new Client({ connectionString: dbUrl });
  await client.connect();
  try {
    const ids: Record<string, string> = {};
    for (const c of channels) {
      const split = splitSettings(c.type, c.settings);
      if (!split.ok) throw new Error(`bad ${c.type} settings: ${JSON.stringify(split.issues)}`);
      const id = randomUUID();
      await client.query(
        `INSERT INTO notification_channels (id, owner_id, name, type, config, secrets, default_kinds, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, '{DOWN,RECOVERED}', now())`,
        [id, ownerId, c.name, c.type, JSON.stringify(split.config), JSON.stringify(split.secrets)],
      );
      ids[c.type] = id;
    }
    return ids;
  } finally {
    await client.end();
  }
}

export async function notifyRows(dbUrl: string, alertId: string) {
  const client = new Client({ connectionString: dbUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{
      type: string;
      status: string;
      attempts: number;
      seq: number;
    }>(
      `SELECT c.type::text AS type, d.status::text AS status, d.attempts, d.seq
         FROM notification_deliveries d JOIN notification_channels c ON c.id = d.channel_id
        WHERE d.alert_id = $1 ORDER BY c.type::text, d.seq`,
      [alertId],
    );
    return rows;
  } finally {
    await client.end();
  }
}
