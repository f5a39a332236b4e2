import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AppConfig } from '@/config/app-config';
import { DomainError } from '@/common/domain-error';
import { RateLimiter } from './rate-limiter';
import { LoginThrottle } from './login-throttle';
import { dummyHash, hashPassword, verifyPassword } from './password-hasher';
import { TokenVersions } from './token-versions';
import { UserRecord, UserRepository } from './user.repository';

export interface AccessToken {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

export interface AuthUser {
  id: string;
  email: string;
  /** the token version this request's token was issued under */
  tokenVersion?: number;
  /** epoch ms when this request's token expires */
  expiresAt?: number;
  /** set when the request authenticated with an API key instead of a JWT */
  apiKey?: { id: string; scope: 'read' | 'write' };
}

/** What sign-up answers, the same whether or not the e-mail was free. */
export interface SignupAnswer {
  id: string;
  email: string;
  createdAt: Date;
}

/** Sign-ups per IP and window: enough for a household, not for a script. */
export const SIGNUP_LIMIT = 20;
export const SIGNUP_WINDOW_MS = 10 * 60_000;

/**
 * Sign-up, login, logout, password change and account deletion. Responses never
 * reveal whether an e-mail is registered: a wrong e-mail and a wrong password give
 * the same error after the same work, and signing up with a taken e-mail answers
 * like a fresh sign-up (with an id that names no account) and changes nothing.
 */
@Injectable()
export class AuthService {
  private readonly log = new Logger('Auth');
  private readonly throttle = new LoginThrottle();
  private readonly signups = new RateLimiter(SIGNUP_LIMIT, SIGNUP_WINDOW_MS);

  constructor(
    private readonly users: UserRepository,
    private readonly jwt: JwtService,
    private readonly config: AppConfig,
    private readonly versions: TokenVersions,
  ) {}

  async signup(email: string, password: string, ip: string): Promise<SignupAnswer> {
    const wait = this.signups.retryAfter(ip);
    if (wait > 0) throw new DomainError('RATE_LIMITED', 'too many sign-ups', undefined, wait);
    this.signups.hit(ip);
    const user = await this.users.create(email, await hashPassword(password));
    if (user) return { id: user.id, email: user.email, createdAt: user.createdAt };
    // Taken: answer exactly as for a new account. The owner keeps their password.
    this.log.log('sign-up with an e-mail already registered (answered as a new account)');
    return { id: randomUUID(), email, createdAt: new Date() };
  }

  async login(email: string, password: string, ip: string): Promise<AccessToken> {
    const attempt = this.throttle.begin(email, ip);
    if ('waitSec' in attempt)
      throw new DomainError('RATE_LIMITED', 'too many login attempts', undefined, attempt.waitSec);
    let ok = false;
    try {
      const user = await this.users.findByEmail(email);
      ok = await verifyPassword(password, user?.passwordHash ?? (await dummyHash()));
      if (!user || !ok) {
        ok = false;
        throw new DomainError('UNAUTHENTICATED', 'wrong e-mail or password');
      }
      return await this.issue(user, user.tokenVersion);
    } finally {
      attempt.finish(ok);
    }
  }

  async me(userId: string): Promise<UserRecord> {
    const user = await this.users.findById(userId);
    if (!user) throw new DomainError('UNAUTHENTICATED', 'account no longer exists');
    return user;
  }

  /** Ends every session of the account: all tokens issued so far stop working. */
  async logout(userId: string): Promise<void> {
    this.versions.revoked(userId, await this.users.bumpTokenVersion(userId));
  }

  /** Needs the current password; revokes every other token and returns a fresh one. */
  async changePassword(
    user: AuthUser,
    currentPassword: string,
    newPassword: string,
  ): Promise<AccessToken> {
    const record = await this.checkPassword(user.id, currentPassword);
    const version = await this.users.changePassword(user.id, await hashPassword(newPassword));
    this.versions.revoked(user.id, version);
    if (version === null) throw new DomainError('UNAUTHENTICATED', 'account no longer exists');
    return this.issue(record, version);
  }

  /** Needs the password; deletes the account with its sites, checks, decisions and alerts. */
  async deleteAccount(user: AuthUser, password: string): Promise<void> {
    await this.checkPassword(user.id, password);
    await this.users.delete(user.id);
    this.versions.revoked(user.id, null);
  }

  private async checkPassword(userId: string, password: string): Promise<UserRecord> {
    const record = await this.me(userId);
    if (!(await verifyPassword(password, record.passwordHash)))
      throw new DomainError('UNAUTHENTICATED', 'wrong password');
    return record;
  }

  private async issue(user: UserRecord, version: number): Promise<AccessToken> {
    const accessToken = await this.jwt.signAsync({ sub: user.id, email: user.email, ver: version });
    return { accessToken, tokenType: 'Bearer', expiresIn: this.config.security.jwtTtlSeconds };
  }
}
