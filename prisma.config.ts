import { defineConfig } from 'prisma/config';

// Prisma 7 reads the connection URL from here rather than from schema.prisma.
// Only the Prisma CLI uses this file; the app builds its own adapter.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: {
    url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/uptime',
  },
});
