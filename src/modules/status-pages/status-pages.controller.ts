import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { ParseResourceIdPipe } from '@/common/parse-uuid.pipe';
import { ApiErrors, BODY_ERRORS } from '@/modules/auth/api-errors';
import { AuthUser } from '@/modules/auth/auth.service';
import { Authenticated, CurrentUser } from '@/modules/auth/current-user.decorator';
import {
  CreateStatusPageDto,
  StatusPageDto,
  StatusPageListDto,
  UpdateStatusPageDto,
} from './status-page.dto';
import { StatusPagesService } from './status-pages.service';

const NOT_FOUND = 'no such status page for this user (NOT_FOUND)';
const SITES_INVALID =
  'invalid fields, or a listed site that is not yours (VALIDATION_FAILED, details name siteIds.<i>)';

@ApiTags('status pages')
@Authenticated()
@Controller('status-pages')
export class StatusPagesController {
  constructor(private readonly pages: StatusPagesService) {}

  @Post()
  @ApiOperation({ summary: 'Create a public status page of some of your sites' })
  @ApiErrors({
    ...BODY_ERRORS,
    400: SITES_INVALID,
    409: 'slug taken, or 50 pages already (CONFLICT)',
  })
  @ZodResponse({ status: 201, type: StatusPageDto })
  create(@CurrentUser() user: AuthUser, @Body() body: CreateStatusPageDto) {
    return this.pages.create(user.id, body);
  }

  @Get()
  @ApiOperation({ summary: 'Your status pages, newest first' })
  @ZodResponse({ status: 200, type: StatusPageListDto })
  async list(@CurrentUser() user: AuthUser) {
    return { items: await this.pages.list(user.id) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One of your status pages' })
  @ApiErrors({ 404: NOT_FOUND })
  @ZodResponse({ status: 200, type: StatusPageDto })
  get(@CurrentUser() user: AuthUser, @Param('id', ParseResourceIdPipe) id: string) {
    return this.pages.get(user.id, id);
  }

  @Put(':id')
  @ApiOperation({ summary: 'Change a status page (siteIds, when given, replaces the list)' })
  @ApiErrors({ ...BODY_ERRORS, 400: SITES_INVALID, 404: NOT_FOUND, 409: 'slug taken (CONFLICT)' })
  @ZodResponse({ status: 200, type: StatusPageDto })
  update(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseResourceIdPipe) id: string,
    @Body() body: UpdateStatusPageDto,
  ) {
    return this.pages.update(user.id, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a status page (the sites stay)' })
  @ApiResponse({ status: 204, description: 'deleted' })
  @ApiErrors({ 404: NOT_FOUND })
  async remove(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseResourceIdPipe) id: string,
  ): Promise<void> {
    await this.pages.remove(user.id, id);
  }
}
