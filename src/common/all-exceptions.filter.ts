import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { ZodValidationException } from 'nestjs-zod';
import { ZodError } from 'zod';
import { DomainError, ErrorCode, FieldIssue, httpStatusOf } from './domain-error';
import { ErrorBody } from './error-body';
import { fieldIssues } from './parse-input';

/**
 * Every error leaves as one JSON shape ({statusCode, error, message, details}).
 * Anything unexpected is a 500 with a generic message; its details only go to the log.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const res = host.switchToHttp().getResponse<Response>();
    const body = this.toBody(exception);
    if (body.statusCode >= 500) this.logger.error(exception);
    if (res.headersSent) return;
    if (exception instanceof DomainError && exception.retryAfterSec !== undefined) {
      res.setHeader('Retry-After', String(exception.retryAfterSec));
    }
    res.status(body.statusCode).json(body);
  }

  private toBody(e: unknown): ErrorBody {
    if (e instanceof DomainError) return bodyOf(e.code, e.message, e.details);
    if (e instanceof ZodValidationException) {
      const zerr = e.getZodError();
      return bodyOf('VALIDATION_FAILED', 'request validation failed', zodIssues(zerr));
    }
    if (e instanceof ZodError)
      return bodyOf('VALIDATION_FAILED', 'request validation failed', zodIssues(e));
    if (e instanceof HttpException) {
      const status = e.getStatus();
      return { statusCode: status, error: codeForStatus(status), message: e.message };
    }
    return bodyOf('INTERNAL', 'internal error');
  }
}

function bodyOf(code: ErrorCode, message: string, details?: FieldIssue[]): ErrorBody {
  return { statusCode: httpStatusOf(code), error: code, message, ...(details ? { details } : {}) };
}

function zodIssues(err: unknown): FieldIssue[] {
  return err instanceof ZodError ? fieldIssues(err) : [];
}

function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'BAD_REQUEST';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 405:
      return 'METHOD_NOT_ALLOWED';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 429:
      return 'RATE_LIMITED';
    case 503:
      return 'UNAVAILABLE';
    default:
      return status >= 500 ? 'INTERNAL' : 'BAD_REQUEST';
  }
}
