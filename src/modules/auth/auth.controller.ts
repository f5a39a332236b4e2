import { Body, Controller, Get, HttpCode, Ip, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { ApiErrors, BODY_ERRORS } from './api-errors';
import { AuthService, AuthUser } from './auth.service';
import { LoginDto, SignupDto, TokenDto, UserDto } from './auth.dto';
import { Authenticated, CurrentUser } from './current-user.decorator';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('signup')
  @ApiOperation({ summary: 'Create an account' })
  @ApiErrors({ ...BODY_ERRORS, 409: 'e-mail already registered (CONFLICT)' })
  @ZodResponse({ status: 201, type: UserDto })
  async signup(@Body() body: SignupDto) {
    const user = await this.auth.signup(body.email, body.password);
    return this.present(await this.auth.me(user.id));
  }

  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange e-mail and password for a bearer token' })
  @ApiErrors({
    ...BODY_ERRORS,
    401: 'wrong e-mail or password (the same answer for both)',
    429: 'too many attempts from this IP or for this account (RATE_LIMITED, Retry-After set)',
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

  private present(u: { id: string; email: string; createdAt: Date }) {
    return { id: u.id, email: u.email, createdAt: u.createdAt.toISOString() };
  }
}
