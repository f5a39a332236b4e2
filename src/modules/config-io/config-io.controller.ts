import { Body, Controller, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiOperation,
  ApiProduces,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ZodResponse } from 'nestjs-zod';
import { ApiErrors, BODY_ERRORS } from '@/modules/auth/api-errors';
import { AuthUser } from '@/modules/auth/auth.service';
import { Authenticated, CurrentUser } from '@/modules/auth/current-user.decorator';
import { formatConfigDocument, parseConfigDocument } from './config-document';
import { ExportQueryDto, ImportQueryDto, ImportReportDto } from './config-io.dto';
import { ConfigIoService } from './config-io.service';

const DOCUMENT =
  'version: 1, sites: [{name, url, intervalMs, timeoutMs, expectedStatus, keyword, paused, ' +
  'downAfterRounds, upAfterRounds, retries, retryDelayMs}], ' +
  'channels: [{name, type, enabled, defaultKinds, settings, secretFields}]. Channel secrets are ' +
  'never exported: secretFields names them; a new channel needs them in settings.';

@ApiTags('config')
@Authenticated()
@Controller()
export class ConfigIoController {
  constructor(private readonly io: ConfigIoService) {}

  @Get('export')
  @ApiOperation({
    summary: "The caller's sites and notification channels as YAML or JSON",
    description: DOCUMENT,
  })
  @ApiProduces('application/yaml', 'application/json')
  @ApiResponse({ status: 200, description: 'the document (attachment)' })
  async export(
    @CurrentUser() user: AuthUser,
    @Query() query: ExportQueryDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<string> {
    const text = formatConfigDocument(await this.io.export(user.id), query.format);
    res.setHeader(
      'Content-Type',
      query.format === 'json'
        ? 'application/json; charset=utf-8'
        : 'application/yaml; charset=utf-8',
    );
    res.setHeader(
      'Content-Disposition',
      `attachment; filename="uptime-config.${query.format === 'json' ? 'json' : 'yaml'}"`,
    );
    return text;
  }

  @Post('import')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Create or update sites and channels by name from a YAML or JSON document',
    description:
      `${DOCUMENT} Idempotent: importing the same document again changes nothing. Names not in ` +
      'the document are left alone. With dryRun=true nothing is written and the answer says what ' +
      'would change. The same validation, SSRF guard and quotas apply as for the REST endpoints.',
  })
  @ApiConsumes('application/json', 'application/yaml')
  @ApiBody({ description: 'the document', schema: { type: 'object' } })
  @ApiQuery({ name: 'dryRun', required: false, type: Boolean })
  @ApiErrors({
    ...BODY_ERRORS,
    409: "several of the account's sites or channels share a name of the document, or a channel would change type (CONFLICT)",
    422: 'a site address the SSRF guard refuses (TARGET_NOT_ALLOWED), or the import would pass a quota (QUOTA_EXCEEDED)',
  })
  @ZodResponse({ status: 200, type: ImportReportDto })
  import(@CurrentUser() user: AuthUser, @Body() body: unknown, @Query() query: ImportQueryDto) {
    return this.io.import(user.id, parseConfigDocument(body), query.dryRun);
  }
}
