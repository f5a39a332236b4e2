/**
 * Services throw DomainError with a code; the one exception filter maps each
 * code to an HTTP status (exhaustively, checked by the compiler).
 */
export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'BAD_JSON'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'TARGET_NOT_ALLOWED'
  | 'QUOTA_EXCEEDED'
  | 'RATE_LIMITED'
  | 'PAYLOAD_TOO_LARGE'
  | 'NOT_LEADER'
  | 'UNAVAILABLE'
  | 'INTERNAL';

export interface FieldIssue {
  path: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: FieldIssue[],
    /** seconds a client should wait (RATE_LIMITED, UNAVAILABLE) */
    readonly retryAfterSec?: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'VALIDATION_FAILED':
    case 'BAD_JSON':
      return 400;
    case 'UNAUTHENTICATED':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'NOT_FOUND':
      return 404;
    case 'CONFLICT':
      return 409;
    case 'PAYLOAD_TOO_LARGE':
      return 413;
    case 'TARGET_NOT_ALLOWED':
    case 'QUOTA_EXCEEDED':
      return 422;
    case 'RATE_LIMITED':
      return 429;
    case 'NOT_LEADER':
    case 'UNAVAILABLE':
      return 503;
    case 'INTERNAL':
      return 500;
  }
}
