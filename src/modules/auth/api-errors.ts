/**
 * OpenAPI documentation of error responses: every error has the one body shape of
 * AllExceptionsFilter ({statusCode, error, message, details?}).
 */
import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { createZodDto } from 'nestjs-zod';
import { errorBodySchema } from '@/common/error-body';

export class ErrorBodyDto extends createZodDto(errorBodySchema) {}

type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 503;

/** Documents each listed status with its meaning and the error body. */
export function ApiErrors(
  errors: Partial<Record<ErrorStatus, string>>,
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...Object.entries(errors).map(([status, description]) =>
      ApiResponse({ status: Number(status), description, type: ErrorBodyDto }),
    ),
  );
}

/** What every JSON body endpoint can answer besides its own errors. */
export const BODY_ERRORS = {
  400: 'malformed JSON (BAD_JSON) or invalid fields (VALIDATION_FAILED, with details per field)',
  413: 'body larger than 256 kB',
} as const;
