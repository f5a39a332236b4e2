import {
  CanActivate,
  ExecutionContext,
  Injectable,
  Logger,
  SetMetadata,
  applyDecorators,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError } from '@/common/domain-error';
import type { ClusterRequest } from './cluster-auth.middleware';

export type { ClusterRequest } from './cluster-auth.middleware';

const MEMBERSHIP_ONLY = 'cluster:membership-only';

/**
 * A route any holder of CLUSTER_SECRET may call (operator reads, the kv test map,
 * join, whose body carries its own Ed25519 proof). Every other cluster route needs
 * a request signed with the sending node's own key, since it acts on who sent it.
 */
export const ClusterMembershipOnly = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(MEMBERSHIP_ONLY, true));

/**
 * Guards node-to-node endpoints. The authentication itself happened before the
 * body was read (clusterAuthMiddleware): this only admits requests it vouched for,
 * and requires node-bound signatures unless the route says membership is enough.
 */
@Injectable()
export class ClusterAuthGuard implements CanActivate {
  private readonly log = new Logger('ClusterAuth');
  private refused = 0;

  constructor(private readonly reflector: Reflector) {}

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<ClusterRequest>();
    const caller = req.cluster;
    if (!caller) return this.refuse(req, 'route is not behind the cluster authentication');
    const membershipOnly = this.reflector.getAllAndOverride<boolean | undefined>(MEMBERSHIP_ONLY, [
      ctx.getHandler(),
      ctx.getClass(),
    ]);
    if (!membershipOnly && !caller.bound)
      return this.refuse(
        req,
        `request from ${caller.nodeId} is not signed with that node's own key`,
      );
    return true;
  }

  refusedCount(): number {
    return this.refused;
  }

  private refuse(req: ClusterRequest, reason: string): never {
    this.refused += 1;
    this.log.warn(
      `refused ${req.method} ${req.originalUrl.split('?')[0]} from ${req.ip}: ${reason}`,
    );
    throw new DomainError('UNAUTHENTICATED', `cluster authentication failed: ${reason}`);
  }
}
