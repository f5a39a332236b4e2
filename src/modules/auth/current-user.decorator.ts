import {
  applyDecorators,
  createParamDecorator,
  ExecutionContext,
  Injectable,
  Optional,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { DomainError } from '@/common/domain-error';
import { ApiBearerAuth } from '@nestjs/swagger';
import type { Request } from 'express';
import { ApiErrors } from './api-errors';
import { API_KEY_PREFIX, ApiKeyVerifier } from './api-key-verifier';
import { AuthUser } from './auth.service';
import { SESSION_ONLY } from './session-only.decorator';
import { TokenVersions } from './token-versions';
import { bearerToken } from '@/common/bearer-token';

/** What a read-scoped API key may call: every other method is a write. */
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A valid, unexpired HS256 token (passport-jwt) whose version is still the
 * account's: a token revoked by logout or a password change, or of a deleted
 * account, is refused on every request. The check lives in this guard, not in the
 * passport strategy, because passport keeps one strategy per name for the process.
 * A bearer token starting with `uk_` is an API key instead (ApiKeyVerifier): a read key
 * may only call GET/HEAD/OPTIONS (403 otherwise), and @SessionOnly() routes refuse keys.
 */
@Injectable()
export class UserTokenGuard extends AuthGuard('jwt') {
  constructor(
    private readonly versions: TokenVersions,
    private readonly reflector: Reflector,
    @Optional() private readonly apiKeys?: ApiKeyVerifier,
  ) {
    super();
  }

  override async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<Request & { user?: AuthUser }>();
    const presented = bearerToken(req.headers.authorization);
    if (presented?.startsWith(API_KEY_PREFIX)) return this.viaApiKey(ctx, req, presented);
    if (!(await super.canActivate(ctx))) return false;
    const user = req.user;
    if (!user || !(await this.versions.isCurrent(user.id, user.tokenVersion ?? 0)))
      throw new DomainError('UNAUTHENTICATED', 'token revoked or account deleted');
    return true;
  }

  private async viaApiKey(
    ctx: ExecutionContext,
    req: Request & { user?: AuthUser },
    presented: string,
  ): Promise<boolean> {
    const key = this.apiKeys ? await this.apiKeys.verify(presented) : null;
    if (!key) throw new DomainError('UNAUTHENTICATED', 'unknown, expired or revoked API key');
    if (this.reflector.getAllAndOverride<boolean>(SESSION_ONLY, [ctx.getHandler(), ctx.getClass()]))
      throw new DomainError('FORBIDDEN', 'this route needs a login session, not an API key');
    if (key.scope === 'read' && !READ_METHODS.has(req.method))
      throw new DomainError('FORBIDDEN', 'a read-scoped API key cannot change anything');
    req.user = {
      id: key.ownerId,
      email: key.ownerEmail,
      tokenVersion: key.ownerTokenVersion,
      ...(key.expiresAt !== undefined ? { expiresAt: key.expiresAt } : {}),
      apiKey: { id: key.keyId, scope: key.scope },
    };
    return true;
  }
}

/** The authenticated user of this request (set by the JWT guard). */
export const CurrentUser = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): AuthUser =>
    ctx.switchToHttp().getRequest<Request & { user: AuthUser }>().user,
);

/** Requires a valid bearer token (a JWT or an API key); documents it in OpenAPI. */
export function Authenticated(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    UseGuards(UserTokenGuard),
    ApiBearerAuth(),
    ApiErrors({
      401: 'missing, expired or forged bearer token, or an unknown, expired or revoked API key (UNAUTHENTICATED)',
      403: 'an API key on a route it may not call: a read key on a write route, any key on a session-only route (FORBIDDEN)',
    }),
  );
}
