import { Body, Controller, Delete, Get, HttpCode, Ip, Post } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { ApiErrors, BODY_ERRORS } from './api-errors';
import { AuthService, AuthUser } from './auth.service';
import {
  ChangePasswordDto,
  DeleteAccountDto,
  LoginDto,
  SignupDto,
  TokenDto,
  UserDto,
} from './auth.dto';
import { Authenticated, CurrentUser } from './current-user.decorator';
import { SessionOnly } from './session-only.decorator';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('signup')
  @ApiOperation({
    summary: 'Create an account',
    description:
      'Answers 201 in the same shape whether or not the e-mail is registered, so the answer ' +
      'does not reveal who has an account; a taken e-mail keeps its account and password ' +
      '(the returned id then names no account). Limited per IP.',
  })
  @ApiErrors({
    ...BODY_ERRORS,
    429: 'too many sign-ups from this IP, or password hashing saturated (RATE_LIMITED)',
  })
  @ZodResponse({ status: 201, type: UserDto })
  async signup(@Body() body: SignupDto, @Ip() ip: string) {
    return this.present(await this.auth.signup(body.email, body.password, ip));
  }

  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange e-mail and password for a bearer token' })
  @ApiErrors({
    ...BODY_ERRORS,
    401: 'wrong e-mail or password (the same answer for both)',
    429: 'too many attempts from this IP, or for this account from this IP (RATE_LIMITED, Retry-After set; the delay doubles per failure)',
  })
  @ZodResponse({ status: 200, type: TokenDto })
  login(@Body() body: LoginDto, @Ip() ip: string) {
    return this.auth.login(body.email, body.password, ip);
  }

  @Get('me')
  @Authenticated()
  @ApiOperation({ summary: 'The account behind the token' })
  @ZodResponse({ status: 200, type: UserDto })
  async me(@CurrentUser() user: AuthUser) {
    return this.present(await this.auth.me(user.id));
  }

  @Post('logout')
  @HttpCode(204)
  @Authenticated()
  @SessionOnly()
  @ApiOperation({
    summary: 'End every session of this account',
    description:
      'Revokes all tokens issued so far (REST, Socket.IO and /ws); other nodes refuse them within 2 s.',
  })
  @ApiResponse({ status: 204, description: 'logged out' })
  async logout(@CurrentUser() user: AuthUser): Promise<void> {
    await this.auth.logout(user.id);
  }

  @Post('password')
  @HttpCode(200)
  @Authenticated()
  @SessionOnly()
  @ApiOperation({
    summary: 'Change the password',
    description: 'Needs the current password. Revokes every other token; returns a new one.',
  })
  @ApiErrors({ ...BODY_ERRORS, 401: 'wrong current password, or a bad token (UNAUTHENTICATED)' })
  @ZodResponse({ status: 200, type: TokenDto })
  changePassword(@CurrentUser() user: AuthUser, @Body() body: ChangePasswordDto) {
    return this.auth.changePassword(user, body.currentPassword, body.newPassword);
  }

  @Delete('me')
  @HttpCode(204)
  @Authenticated()
  @SessionOnly()
  @ApiOperation({
    summary: 'Delete this account with its sites, checks, decisions and alerts',
    description: 'Needs the password in the body. Every token of the account stops working.',
  })
  @ApiErrors({ ...BODY_ERRORS, 401: 'wrong password, or a bad token (UNAUTHENTICATED)' })
  @ApiResponse({ status: 204, description: 'deleted' })
  async deleteAccount(
    @CurrentUser() user: AuthUser,
    @Body() body: DeleteAccountDto,
  ): Promise<void> {
    await this.auth.deleteAccount(user, body.password);
  }

  private present(u: { id: string; email: string; createdAt: Date }) {
    return { id: u.id, email: u.email, createdAt: u.createdAt.toISOString() };
  }
}
