import { Global, Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { AppConfig } from '@/config/app-config';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { JwtStrategy } from './jwt.strategy';
import { SiteQuota } from './quotas';
import { TokenVersions } from './token-versions';
import { UserRepository } from './user.repository';

// Global: every controller behind @Authenticated() needs TokenVersions for UserTokenGuard.
@Global()
@Module({
  imports: [
    PassportModule,
    JwtModule.registerAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        secret: config.security.jwtSecret,
        signOptions: { expiresIn: config.security.jwtTtlSeconds, algorithm: 'HS256' },
        verifyOptions: { algorithms: ['HS256'] },
      }),
    }),
  ],
  controllers: [AuthController],
  providers: [AuthService, UserRepository, JwtStrategy, TokenVersions, SiteQuota],
  exports: [AuthService, TokenVersions, SiteQuota],
})
export class AuthModule {}
