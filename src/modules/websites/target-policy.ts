import { Injectable } from '@nestjs/common';

/** Placeholder replaced when the SSRF guard lands. */
@Injectable()
export class TargetPolicy {
  async assertAllowed(_url: string): Promise<void> {}
}
