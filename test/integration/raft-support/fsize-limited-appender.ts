/**
 * Child for raft-storage-full.spec: appends entries to a SegmentedLog in argv[2] until the file
 * size limit the parent set (ulimit -f) makes a write fail, then prints one JSON line: the last
 * index whose append resolved, the error of the append that failed, and whether an append after
 * the failure is refused too (nothing is acknowledged on a disk that refuses writes).
 */
import { SegmentedLog } from '@/modules/raft/storage/segmented-log';
import type { LogEntry } from '@/core/raft/raft.types';

async function main(): Promise<void> {
  const dir = process.argv[2];
  const { log } = await SegmentedLog.open(dir, 1 << 20);
  const entry = (index: number): LogEntry => ({
    index,
    term: 1,
    type: 'command',
    data: new Uint8Array(300).fill(index % 251),
  });
  let acked = 0;
  let error = '';
  for (let i = 1; i <= 10_000; i++) {
    try {
      await log.append([entry(i)]);
      acked = i;
    } catch (e) {
      error = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      break;
    }
  }
  let retried = 'refused';
  try {
    await log.append([entry(acked + 1)]);
    retried = 'accepted';
  } catch {
    // still refused: the limit has not moved
  }
  process.stdout.write(`${JSON.stringify({ acked, error, retried, last: log.lastIndex() })}\n`);
}

void main();
