/**
 * The highest log index whose live events this node has broadcast, persisted before the
 * events leave (a small file, replaced by rename), so a restarted node never broadcasts an
 * entry it applied before the crash again. The Raft host's own replay flag rests on the
 * commit index it persisted, which it writes only together with term and vote.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Logger } from '@nestjs/common';

export class BroadcastMark {
  private readonly log = new Logger('BroadcastMark');
  private last: number;

  constructor(private readonly file: string) {
    this.last = readMark(file);
    mkdirSync(dirname(file), { recursive: true });
  }

  /** True when `index` was never broadcast by this node; records it before answering. */
  claim(index: number): boolean {
    if (index <= this.last) return false;
    this.last = index;
    try {
      writeFileSync(`${this.file}.tmp`, String(index));
      renameSync(`${this.file}.tmp`, this.file);
    } catch (e) {
      // A full disk costs at worst a repeated live event after a restart, not the event now.
      this.log.warn(`cannot persist the broadcast mark: ${(e as Error).message}`);
    }
    return true;
  }
}

function readMark(file: string): number {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isSafeInteger(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}
