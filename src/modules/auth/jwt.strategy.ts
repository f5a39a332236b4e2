import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AppConfig } from '@/config/app-config';
import { AuthUser } from './auth.service';

interface JwtPayload {
  sub?: unknown;
  email?: unknown;
}

/** Bearer tokens signed with JWT_SECRET (HS256 only); expiry always enforced. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy) {
  constructor(config: AppConfig) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      ignoreExpiration: false,
      secretOrKey: config.security.jwtSecret!,
      algorithms: ['HS256'],
    });
  }

  validate(payload: JwtPayload): AuthUser | false {
    if (typeof payload.sub !== 'string' || typeof payload.email !== 'string') return false;
    return { id: payload.sub, email: payload.email };
  }
}
