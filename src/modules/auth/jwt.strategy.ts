import { createSecretKey } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AppConfig } from '@/config/app-config';
import { AuthUser } from './auth.service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface JwtPayload {
  sub?: unknown;
  email?: unknown;
  /** the account's token version at issue; absent in tokens signed before versions (0) */
  ver?: unknown;
}

/** Bearer tokens signed with JWT_SECRET (HS256 only); expiry always enforced. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy) {
  constructor(config: AppConfig) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      ignoreExpiration: false,
      // A KeyObject (jsonwebtoken accepts one; the typings lag): given a string or Buffer,
      // it first tries and fails to parse it as a PEM public key on every request, which
      // costs about a millisecond of CPU each time.
      secretOrKey: createSecretKey(
        Buffer.from(config.security.jwtSecret!, 'utf8'),
      ) as unknown as Buffer,
      algorithms: ['HS256'],
    });
  }

  /** The token's claims; UserTokenGuard then checks the version against the account. */
  validate(payload: JwtPayload): AuthUser | false {
    if (typeof payload.sub !== 'string' || typeof payload.email !== 'string') return false;
    // Ids are UUIDs; anything else could only come from a token we did not issue.
    if (!UUID.test(payload.sub)) return false;
    const ver = payload.ver ?? 0;
    if (typeof ver !== 'number' || !Number.isSafeInteger(ver)) return false;
    const exp = (payload as { exp?: unknown }).exp;
    return {
      id: payload.sub,
      email: payload.email,
      tokenVersion: ver,
      ...(typeof exp === 'number' ? { expiresAt: exp * 1000 } : {}),
    };
  }
}
