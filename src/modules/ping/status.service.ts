/**
 * One check now, from this node, for GET /api/status. The SSRF guard applies as for
 * scheduled checks; a small cap on concurrent ad-hoc checks keeps the endpoint from
 * being turned into a request amplifier.
 */
import { Injectable } from '@nestjs/common';
import { DomainError } from '@/common/domain-error';
import { AppConfig } from '@/config/app-config';
import { Checker, CheckResult } from './check-result';

const MAX_CONCURRENT_STATUS_CHECKS = 16;

@Injectable()
export class StatusService {
  private running = 0;

  constructor(
    private readonly checker: Checker,
    private readonly config: AppConfig,
  ) {}

  async checkNow(url: string | undefined): Promise<{ url: string; result: CheckResult }> {
    const target = url ?? this.config.ping.defaultTargetUrl;
    if (!target) {
      throw new DomainError('VALIDATION_FAILED', 'url is required (no DEFAULT_TARGET_URL set)', [
        { path: 'url', message: 'required' },
      ]);
    }
    if (this.running >= MAX_CONCURRENT_STATUS_CHECKS) {
      throw new DomainError('RATE_LIMITED', 'too many status checks in progress', undefined, 1);
    }
    this.running += 1;
    try {
      const result = await this.checker.check({
        url: target,
        timeoutMs: this.config.ping.timeoutMs,
      });
      if (result.failure === 'BLOCKED') {
        // Never echo the address the name resolved to: internal addresses stay internal.
        const message =
          'target not allowed: only URLs whose host resolves to public addresses can be checked';
        throw new DomainError('TARGET_NOT_ALLOWED', message, [{ path: 'url', message }]);
      }
      return { url: target, result };
    } finally {
      this.running -= 1;
    }
  }
}
