import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AppConfig } from '@/config/app-config';
import { DomainError } from '@/common/domain-error';
import { DUMMY_HASH_PROMISE, hashPassword, verifyPassword } from './password-hasher';
import { RateLimiter } from './rate-limiter';
import { UserRecord, UserRepository } from './user.repository';

export interface AccessToken {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

export interface AuthUser {
  id: string;
  email: string;
}

/**
 * Sign-up, login and token checks. A wrong e-mail and a wrong password give the
 * same error after the same work, so responses do not reveal which accounts exist.
 */
@Injectable()
export class AuthService {
  // 20 login attempts per minute per IP; 10 failures per 15 minutes per account.
  private readonly perIp = new RateLimiter(20, 60_000);
  private readonly perAccount = new RateLimiter(10, 15 * 60_000);

  constructor(
    private readonly users: UserRepository,
    private readonly jwt: JwtService,
    private readonly config: AppConfig,
  ) {}

  async signup(email: string, password: string): Promise<AuthUser> {
    const user = await this.users.create(email, await hashPassword(password));
    return { id: user.id, email: user.email };
  }

  async login(email: string, password: string, ip: string): Promise<AccessToken> {
    const wait = Math.max(this.perIp.retryAfter(ip), this.perAccount.retryAfter(email));
    if (wait > 0) throw new DomainError('RATE_LIMITED', 'too many login attempts', undefined, wait);
    this.perIp.hit(ip);

    const user = await this.users.findByEmail(email);
    const ok = await verifyPassword(password, user?.passwordHash ?? (await DUMMY_HASH_PROMISE));
    if (!user || !ok) {
      this.perAccount.hit(email);
      throw new DomainError('UNAUTHENTICATED', 'wrong e-mail or password');
    }
    this.perAccount.reset(email);
    return this.issue(user);
  }

  async me(userId: string): Promise<UserRecord> {
    const user = await this.users.findById(userId);
    if (!user) throw new DomainError('UNAUTHENTICATED', 'account no longer exists');
    return user;
  }

  private async issue(user: UserRecord): Promise<AccessToken> {
    const accessToken = await this.jwt.signAsync({ sub: user.id, email: user.email });
    return { accessToken, tokenType: 'Bearer', expiresIn: this.config.security.jwtTtlSeconds };
  }
}
