import { Injectable } from '@nestjs/common';
import { PrismaService } from '@/infra/database/prisma.service';

/** Prisma's Bytes fields take a Uint8Array over a plain ArrayBuffer. */
const bytes = (b: Buffer): Uint8Array<ArrayBuffer> => new Uint8Array(b);

/** The beat token of push sites, as its hash in websites.push_token_hash. */
@Injectable()
export class PushTokenRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** The push site a token hash belongs to (a unique-index lookup); null for none. */
  async siteOf(hash: Buffer): Promise<string | null> {
    const row = await this.prisma.website.findUnique({
      where: { pushTokenHash: bytes(hash) },
      select: { id: true, kind: true },
    });
    return row && row.kind === 'push' ? row.id : null;
  }

  /** Replaces the site's token hash (the old token stops working at once); false: no such site. */
  async setHash(siteId: string, hash: Buffer | null): Promise<boolean> {
    const { count } = await this.prisma.website.updateMany({
      where: { id: siteId },
      data: { pushTokenHash: hash === null ? null : bytes(hash) },
    });
    return count > 0;
  }
}
