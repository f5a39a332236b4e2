// The process's one Prisma client, on the `pg` driver adapter (no engine binary at run time).
// It opens and checks a connection during module init: an unreachable database fails the boot, not a request.
import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import type { PoolConfig } from 'pg';
import { PrismaClient } from '@/generated/prisma/client';
import { EMBEDDED_MAX_CONNECTIONS } from './embedded-postgres';

export interface PrismaServiceOptions {
  connectionString: string;
  /** pool size for a real PostgreSQL; ignored for the embedded one */
  poolSize: number;
  /** true when connectionString points at the embedded (PGlite) server */
  embedded: boolean;
}

/** Built by DatabaseModule's factory; tests construct it directly. */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleInit, OnApplicationShutdown {
  constructor(options: PrismaServiceOptions) {
    super({ adapter: new PrismaPg(poolConfig(options)) });
  }

  async onModuleInit(): Promise<void> {
    await this.$connect();
    // With a driver adapter $connect() only builds the pool; a query proves the server answers.
    await this.ping().catch((e: unknown) => {
      throw new Error(`cannot reach the database: ${lastLine(e)}`, { cause: e });
    });
  }

  // At application shutdown rather than module destroy: other modules may
  // still flush through Prisma in their onModuleDestroy hooks.
  async onApplicationShutdown(): Promise<void> {
    await this.$disconnect();
  }

  /** Readiness probe: one round trip to the database. */
  async ping(): Promise<void> {
    await this.$queryRaw`SELECT 1`;
  }
}

// Prisma's messages open with a multi-line "Invalid invocation" preamble; the cause is last.
function lastLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.trim().split('\n').pop() ?? text;
}

function poolConfig(o: PrismaServiceOptions): PoolConfig {
  if (!o.embedded) return { connectionString: o.connectionString, max: o.poolSize };
  // The embedded server serves a single connection (see EMBEDDED_MAX_CONNECTIONS).
  // Never reaping the idle one keeps a reconnect from racing the old socket's
  // teardown into that limit.
  return {
    connectionString: o.connectionString,
    max: EMBEDDED_MAX_CONNECTIONS,
    idleTimeoutMillis: 0,
  };
}
