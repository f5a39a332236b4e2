import { Prisma } from '@/generated/prisma/client';

/** True when a write failed on a unique constraint (Prisma code P2002). */
export function isUniqueViolation(e: unknown): boolean {
  return e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002';
}

/** True when an update/delete matched no row (Prisma code P2025). */
export function isNotFound(e: unknown): boolean {
  return e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2025';
}
