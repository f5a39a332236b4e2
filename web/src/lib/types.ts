// The API's shapes as the dashboard reads them (see /api/docs for the full schemas).
export type Verdict = 'UP' | 'DOWN' | 'UNKNOWN';

export interface RegionState {
  verdict: Verdict;
  since: string | null;
}

export interface SiteState {
  verdict: Verdict;
  since: string | null;
  regions: Record<string, RegionState>;
  lastRound: number | null;
  lastCheckedAt: string | null;
  lastLatencyMs: number | null;
}

export interface SiteOverview {
  id: string;
  name: string;
  url: string;
  paused: boolean;
  intervalMs: number;
  createdAt: string;
  status: SiteState | null;
  uptime24h: number | null;
  checks24h: number;
  spark: (number | null)[];
}

export interface OverviewPage {
  items: SiteOverview[];
  nextCursor: string | null;
  total: number | null;
  stats: boolean;
}

export interface Website {
  id: string;
  name: string;
  url: string;
  intervalMs: number;
  timeoutMs: number;
  expectedStatus: number[];
  keyword: string | null;
  paused: boolean;
  createdAt: string;
  updatedAt: string;
  /** null: stored options this server version cannot read */
  check?: CheckSpec | null;
  /** push sites, in the answer to their creation only */
  pushToken?: string;
  /** interfaces F: live status, when the API provides it */
  status?: {
    verdict: Verdict;
    since: string | null;
    regions?: Record<string, { verdict: Verdict; since: string | null }>;
    lastRound?: number | null;
    lastCheckedAt?: string | null;
    lastLatencyMs?: number | null;
    certificate?: Certificate | null;
    lastBeatAt?: string | null;
  } | null;
}

export interface Certificate {
  validTo: string;
  daysLeft: number;
  warning: boolean;
  checkedAt: string;
}

export type CheckKind = 'http' | 'tcp' | 'dns' | 'tls' | 'push';
export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';
export type DnsRecordType = 'A' | 'AAAA' | 'CNAME' | 'MX' | 'TXT' | 'NS';

export interface HttpAssertions {
  status: { min: number; max: number }[];
  bodyContains: string[];
  bodyNotContains: string[];
  json: unknown[];
  maxLatencyMs: number | null;
}

export type CheckSpec =
  | {
      kind: 'http';
      method: HttpMethod;
      headers: Record<string, string>;
      body: string | null;
      connection: 'reuse' | 'fresh';
      assertions: HttpAssertions;
    }
  | { kind: 'tcp'; tls: boolean }
  | {
      kind: 'dns';
      recordType: DnsRecordType;
      expected: string[];
      match: 'any' | 'all' | 'exact';
      resolver: string | null;
    }
  | { kind: 'tls'; warnDays: number; downDays: number; checkChain: boolean; checkHostname: boolean }
  | { kind: 'push'; periodS: number; graceS: number };

export interface PushToken {
  token: string;
  beatUrl: string;
}

export type ChannelType = 'WEBHOOK' | 'SLACK' | 'DISCORD' | 'TELEGRAM' | 'PAGERDUTY' | 'MATTERMOST';
export type AlertKind = 'DOWN' | 'RECOVERED' | 'REGION_DOWN' | 'REGION_RECOVERED';

export interface Channel {
  id: string;
  name: string;
  type: ChannelType;
  /** secrets masked */
  settings: Record<string, unknown>;
  defaultKinds: AlertKind[];
  enabled: boolean;
  state: 'OK' | 'FAILING';
  failingSince: string | null;
  lastFailureAt: string | null;
  lastSuccessAt: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface TestResult {
  delivered: boolean;
  statusCode: number | null;
  error: string | null;
  ms: number;
}

export interface Delivery {
  id: string;
  alertId: string;
  siteId: string;
  kind: AlertKind;
  round: number;
  reminder: number;
  channel: { id: string; name: string; type: ChannelType; state: 'OK' | 'FAILING' };
  status: 'PENDING' | 'SENT' | 'FAILED' | 'CANCELLED';
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
  sentAt: string | null;
}

export interface Occurrence {
  start: string;
  end: string;
}

export interface MaintenanceWindow {
  id: string;
  title: string;
  siteId: string | null;
  statusPageId: string | null;
  startsAt: string | null;
  endsAt: string | null;
  cron: string | null;
  durationMinutes: number | null;
  timeZone: string | null;
  activeFrom: string | null;
  activeUntil: string | null;
  activeNow: Occurrence | null;
  upcoming: Occurrence[];
  createdAt: string;
  updatedAt: string;
}

export interface ApiKey {
  id: string;
  name: string;
  scope: 'read' | 'write';
  hint: string;
  expiresAt: string | null;
  expired: boolean;
  lastUsedAt: string | null;
  createdAt: string;
}

export interface DayBar {
  day: string;
  checks: number;
  upChecks: number;
  uptimePct: number | null;
}

export interface Incident {
  id: string;
  region: string | null;
  startedAt: string;
  endedAt: string | null;
  durationMs: number;
  startRound: number;
  endRound: number | null;
}

export interface Vote {
  validatorId: string;
  region: string | null;
  up: boolean | null;
  latencyMs: number | null;
  httpStatus: number | null;
  failure: string | null;
  error: string | null;
  source: 'decision' | 'check' | 'missing';
}

export interface DecisionView {
  logIndex: number;
  term: number;
  round: number;
  verdict: Verdict;
  regionVerdicts: Record<string, Verdict>;
  tally: { up: number; down: number; total: number; quorum: number | null };
  byRegion: Record<string, { up: number; down: number; total: number }>;
  decidedAt: string;
  votes: Vote[];
}

export interface Figures {
  checks: number;
  upChecks: number;
  uptimePct: number | null;
  avgLatencyMs: number | null;
  p95LatencyMs: number | null;
  maxLatencyMs: number | null;
  incidents: number;
  downtimeMs: number;
}

export interface Summary {
  websiteId: string;
  generatedAt: string;
  status: { verdict: Verdict; since: string | null; source: string; paused: boolean };
  windows: (Figures & { window: string; regions: (Figures & { region: string })[] })[];
}

export interface PingLog {
  id: string;
  validatorId: string;
  region: string;
  round: number;
  up: boolean;
  latencyMs: number | null;
  httpStatus: number | null;
  failure: string | null;
  checkedAt: string;
}

export interface StatusPage {
  id: string;
  slug: string;
  title: string;
  description: string | null;
  showUrls: boolean;
  siteIds: string[];
  publicPath: string;
  createdAt: string;
  updatedAt: string;
}

export interface PublicSite {
  id: string;
  name: string;
  url?: string;
  paused: boolean;
  status: { verdict: Verdict; since: string | null; regions: Record<string, RegionState> } | null;
  uptime: Record<'24h' | '7d' | '30d' | '90d', number | null>;
  days: DayBar[];
  incidents: Incident[];
}

export interface PublicStatusPage {
  slug: string;
  title: string;
  description: string | null;
  state: 'operational' | 'degraded' | 'outage' | 'maintenance' | 'unknown';
  generatedAt: string;
  sites: PublicSite[];
  maintenance: PublicMaintenance[];
}

export interface PublicMaintenance {
  title: string;
  start: string;
  end: string;
  activeNow: boolean;
  /** empty: the whole page */
  siteIds: string[];
}

export type RaftRole = 'leader' | 'follower' | 'candidate' | 'pre-candidate';

export interface ClusterOverview {
  generatedAt: string;
  node: {
    validatorId: string;
    region: string;
    raft: {
      role: RaftRole;
      term: number;
      leader: string | null;
      commitIndex: number;
      appliedIndex: number;
      voters: number;
    };
  };
  validators: {
    id: string;
    region: string;
    lastSeenAt: string;
    live: boolean;
    self: boolean;
    raftRole: RaftRole | null;
  }[];
  regions: { region: string; validators: number; live: number }[];
  gossip: {
    published: number;
    accepted: number;
    forwarded: number;
    rejected: Record<string, number>;
    sentMessages: number;
    sendFailures: number;
    dropped: Record<string, number>;
    queued: number;
  };
  tally: Record<string, number>;
}

/** Socket.IO `consensus` (docs/events.md). */
export interface ConsensusEvent {
  url: string;
  consensus: Verdict;
  timeStamp: number;
  siteId: string;
  round: number;
  regions?: Record<string, Verdict>;
  logIndex?: number;
}

/** Socket.IO `ping-result` (site subscribers only). */
export interface PingResultEvent {
  siteId: string;
  round: number;
  validatorId: string;
  region: string;
  up: boolean;
  latencyMs: number;
  httpStatus: number | null;
  failure: string | null;
  checkedAt: string;
}
