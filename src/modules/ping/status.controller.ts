/**
 * GET /api/status?url= : checks a URL once from this validator and returns the
 * verdict with its phases. Bad input is a 400, a private or reserved target a 422.
 */
import { Controller, Get, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { AppConfig } from '@/config/app-config';
import { Authenticated } from '@/modules/auth/current-user.decorator';
import { StatusQueryDto, StatusResultDto } from './status.dto';
import { StatusService } from './status.service';

@ApiTags('status')
@Authenticated()
@Controller('status')
export class StatusController {
  constructor(
    private readonly status: StatusService,
    private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Check a URL once, now, from this validator' })
  @ApiBadRequestResponse({ description: 'not an http(s) URL, or longer than 2048 characters' })
  @ApiUnprocessableEntityResponse({
    description: 'the URL points at a private or reserved address',
  })
  @ApiTooManyRequestsResponse({ description: 'too many status checks in progress' })
  @ZodResponse({ status: 200, type: StatusResultDto })
  async check(@Query() query: StatusQueryDto) {
    const { url, result } = await this.status.checkNow(query.url);
    return {
      url,
      validatorId: this.config.node.id,
      region: this.config.node.region,
      ...result,
      checkedAt: new Date(result.checkedAt).toISOString(),
    };
  }
}
