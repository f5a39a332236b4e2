import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

const email = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email({ error: 'expected an e-mail address' }))
  .transform((e) => e.toLowerCase());

export const signupSchema = z.strictObject({
  email,
  password: z.string().min(10, 'at least 10 characters').max(256, 'at most 256 characters'),
});
export class SignupDto extends createZodDto(signupSchema) {}

export const loginSchema = z.strictObject({
  email,
  password: z.string().min(1).max(256),
});
export class LoginDto extends createZodDto(loginSchema) {}

export const changePasswordSchema = z.strictObject({
  currentPassword: z.string().min(1).max(256),
  newPassword: z.string().min(10, 'at least 10 characters').max(256, 'at most 256 characters'),
});
export class ChangePasswordDto extends createZodDto(changePasswordSchema) {}

export const deleteAccountSchema = z.strictObject({
  password: z.string().min(1).max(256).describe('the current password, to confirm'),
});
export class DeleteAccountDto extends createZodDto(deleteAccountSchema) {}

export const tokenSchema = z.object({
  accessToken: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int().describe('seconds'),
});
export class TokenDto extends createZodDto(tokenSchema) {}

export const userSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  createdAt: z.iso.datetime(),
});
export class UserDto extends createZodDto(userSchema) {}
