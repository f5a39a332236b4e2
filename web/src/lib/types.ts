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
  /** interfaces F: live status, when the API provides it */
  status?: {
    verdict: Verdict;
    since: string | null;
    regions?: Record<string, { verdict: Verdict; since: string | null }>;
    lastRound?: number | null;
    lastCheckedAt?: string | null;
    lastLatencyMs?: number | null;
  } | null;
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
