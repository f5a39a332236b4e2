import { Global, Module } from '@nestjs/common';
import { ApiKeyVerifier } from '@/modules/auth/api-key-verifier';
import { ApiKeyAuthenticator } from './api-key.authenticator';
import { ApiKeyRepository } from './api-key.repository';
import { ApiKeyUsage } from './api-key-usage';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysService } from './api-keys.service';

/**
 * Users' API keys. Global because UserTokenGuard, instantiated in every module with an
 * @Authenticated() route, takes ApiKeyVerifier from here.
 */
@Global()
@Module({
  controllers: [ApiKeysController],
  providers: [
    ApiKeyRepository,
    ApiKeyUsage,
    ApiKeyAuthenticator,
    ApiKeysService,
    { provide: ApiKeyVerifier, useExisting: ApiKeyAuthenticator },
  ],
  exports: [ApiKeyVerifier],
})
export class ApiKeysModule {}
