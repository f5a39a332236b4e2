import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import type { Request } from 'express';
import { DomainError } from '@/common/domain-error';
import { ClusterAuth } from './cluster-auth';

export type ClusterRequest = Request & { rawBody?: Buffer; clusterNode?: string };

/**
 * Guards node-to-node endpoints: only a request signed with the cluster secret,
 * fresh and not seen before, reaches the handler. Runs before any state is read.
 */
@Injectable()
export class ClusterAuthGuard implements CanActivate {
  private readonly log = new Logger('ClusterAuth');
  private refused = 0;

  constructor(private readonly auth: ClusterAuth) {}

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<ClusterRequest>();
    const body = req.rawBody ?? Buffer.alloc(0);
    const result = this.auth.verify(req.method, req.originalUrl.split('?')[0], body, req.headers);
    if (!result.ok) {
      this.refused += 1;
      this.log.warn(
        `refused ${req.method} ${req.originalUrl.split('?')[0]} from ${req.ip}: ${result.reason}`,
      );
      throw new DomainError('UNAUTHENTICATED', `cluster authentication failed: ${result.reason}`);
    }
    req.clusterNode = result.nodeId;
    return true;
  }

  refusedCount(): number {
    return this.refused;
  }
}
