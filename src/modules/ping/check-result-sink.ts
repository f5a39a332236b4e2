/**
 * Where every scheduled check's result goes. The default publishes it on the
 * health-logs topic; the gossip module will bind one that also signs it as a vote.
 * onResult must not block or throw: the scheduler calls it inline.
 */
import type { CheckResult } from './check-result';
import type { SiteSpec } from './site-source';

export abstract class CheckResultSink {
  abstract onResult(site: SiteSpec, round: number, result: CheckResult): void;
  /** Delivers whatever is buffered (shutdown). */
  flush?(): Promise<void>;
}
