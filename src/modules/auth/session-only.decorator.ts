import { SetMetadata } from '@nestjs/common';

export const SESSION_ONLY = 'auth:session-only';

/**
 * The route needs a login session (a JWT), not an API key: managing keys and the account.
 * A leaked key can then neither mint itself successors nor lock the owner out.
 */
export const SessionOnly = () => SetMetadata(SESSION_ONLY, true);
