import { Body, Controller, Delete, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ZodResponse } from 'nestjs-zod';
import { ParseResourceIdPipe } from '@/common/parse-uuid.pipe';
import { ApiErrors, BODY_ERRORS } from '@/modules/auth/api-errors';
import { AuthUser } from '@/modules/auth/auth.service';
import { Authenticated, CurrentUser } from '@/modules/auth/current-user.decorator';
import { SessionOnly } from '@/modules/auth/session-only.decorator';
import { ApiKeyRecord } from './api-key.repository';
import { ApiKeyListDto, CreateApiKeyDto, IssuedApiKeyDto } from './api-keys.dto';
import { ApiKeysService } from './api-keys.service';

@ApiTags('api-keys')
@Authenticated()
@SessionOnly()
@Controller('api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @ApiOperation({
    summary: 'Create an API key (the key is in this answer only)',
    description:
      'Needs a login session: an API key cannot create, list or revoke keys (403). The key ' +
      'authenticates REST calls as "Authorization: Bearer uk_…" with the owner\'s rights, ' +
      'limited by its scope; it is not accepted by Socket.IO or /ws. Keys survive logout and ' +
      'password changes and go with the account. Only an HMAC-SHA-256 of the key is stored.',
  })
  @ApiErrors({
    ...BODY_ERRORS,
    409: 'the account has a key of this name (CONFLICT)',
    422: 'the account holds MAX_API_KEYS_PER_USER unexpired keys already (QUOTA_EXCEEDED)',
  })
  @ZodResponse({ status: 201, type: IssuedApiKeyDto })
  async create(
    @CurrentUser() user: AuthUser,
    @Body() body: CreateApiKeyDto,
    @Res({ passthrough: true }) res: Response,
  ) {
    const issued = await this.keys.create(user.id, {
      name: body.name,
      scope: body.scope,
      ...(body.expiresAt !== undefined ? { expiresAt: new Date(body.expiresAt) } : {}),
    });
    res.setHeader('Cache-Control', 'no-store');
    return { ...present(issued), key: issued.key };
  }

  @Get()
  @ApiOperation({ summary: "The caller's API keys, newest first, without their secrets" })
  @ZodResponse({ status: 200, type: ApiKeyListDto })
  async list(@CurrentUser() user: AuthUser) {
    return { items: (await this.keys.list(user.id)).map(present) };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Revoke an API key',
    description: 'Refused (401) at once on this node, within 2 s on the others.',
  })
  @ApiResponse({ status: 204, description: 'revoked' })
  @ApiErrors({ 404: 'no such key for this user (NOT_FOUND)' })
  async revoke(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseResourceIdPipe) id: string,
  ): Promise<void> {
    await this.keys.revoke(user.id, id);
  }
}

function present(k: ApiKeyRecord) {
  return {
    id: k.id,
    name: k.name,
    scope: k.scope,
    hint: k.hint,
    expiresAt: k.expiresAt?.toISOString() ?? null,
    expired: k.expiresAt !== null && k.expiresAt.getTime() <= Date.now(),
    lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
    createdAt: k.createdAt.toISOString(),
  };
}
