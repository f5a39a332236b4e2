import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { ParseResourceIdPipe } from '@/common/parse-uuid.pipe';
import { ApiErrors, BODY_ERRORS } from '@/modules/auth/api-errors';
import { AuthUser } from '@/modules/auth/auth.service';
import { Authenticated, CurrentUser } from '@/modules/auth/current-user.decorator';
import {
  MaintenanceDto,
  MaintenanceInputDto,
  MaintenanceListDto,
  MaintenanceQueryDto,
} from './maintenance.dto';
import { MaintenanceService } from './maintenance.service';

const NOT_FOUND = 'no such maintenance window for this user (NOT_FOUND)';

@ApiTags('maintenance')
@Authenticated()
@Controller('maintenance-windows')
export class MaintenanceController {
  constructor(private readonly windows: MaintenanceService) {}

  @Post()
  @ApiOperation({
    summary:
      'Plan maintenance: alerts of the site are held while it lasts; one still DOWN at its end alerts then',
  })
  @ApiErrors({
    ...BODY_ERRORS,
    404: 'no such site for this user (NOT_FOUND)',
    409: 'quota reached (CONFLICT)',
  })
  @ZodResponse({ status: 201, type: MaintenanceDto })
  create(@CurrentUser() user: AuthUser, @Body() body: MaintenanceInputDto) {
    return this.windows.create(user.id, body);
  }

  @Get()
  @ApiOperation({ summary: "The caller's maintenance windows" })
  @ZodResponse({ status: 200, type: MaintenanceListDto })
  list(@CurrentUser() user: AuthUser, @Query() query: MaintenanceQueryDto) {
    return this.windows.list(user.id, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One maintenance window with its current and next occurrences' })
  @ApiErrors({ 404: NOT_FOUND })
  @ZodResponse({ status: 200, type: MaintenanceDto })
  get(@CurrentUser() user: AuthUser, @Param('id', ParseResourceIdPipe) id: string) {
    return this.windows.get(user.id, id);
  }

  @Put(':id')
  @ApiOperation({ summary: 'Replace a maintenance window' })
  @ApiErrors({ ...BODY_ERRORS, 404: NOT_FOUND })
  @ZodResponse({ status: 200, type: MaintenanceDto })
  update(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseResourceIdPipe) id: string,
    @Body() body: MaintenanceInputDto,
  ) {
    return this.windows.update(user.id, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a maintenance window (its held alerts are settled at the next pass)',
  })
  @ApiResponse({ status: 204, description: 'deleted' })
  @ApiErrors({ 404: NOT_FOUND })
  async remove(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseResourceIdPipe) id: string,
  ): Promise<void> {
    await this.windows.remove(user.id, id);
  }
}
