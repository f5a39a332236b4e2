/**
 * Issue 12.3: Raft's log on a disk that stops taking bytes. A child process appends under a
 * file size limit (`ulimit -f`: Node ignores SIGXFSZ, so the kernel answers with a short write,
 * then EFBIG — what a full disk does with ENOSPC). No append that resolved may be torn or
 * missing after a restart, the one that failed must not resolve, and once space returns (the
 * limit gone) the log takes appends again from where the acknowledged entries end.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogEntry } from '@/core/raft/raft.types';
import { SegmentedLog } from '@/modules/raft/storage/segmented-log';

jest.setTimeout(60_000);

const CHILD = join(__dirname, 'raft-support', 'fsize-limited-appender.ts');
/** 1 KiB blocks: room for a few hundred 300-byte entries and their headers */
const LIMIT_BLOCKS = 96;

function runLimited(dir: string): Promise<{ acked: number; error: string; retried: string }> {
  return new Promise((resolve, reject) => {
    const cmd =
      `ulimit -f ${LIMIT_BLOCKS} && exec node -r ts-node/register/transpile-only ` +
      `-r tsconfig-paths/register ${JSON.stringify(CHILD)} ${JSON.stringify(dir)}`;
    const child = spawn('bash', ['-c', cmd], { cwd: join(__dirname, '..', '..') });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{'))
        return reject(new Error(`appender exited ${code ?? signal}: ${out}\n${err}`));
      resolve(JSON.parse(line));
    });
  });
}

describe('Raft log on a disk that refuses writes', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'raft-full-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('acknowledges no torn entry, refuses while full, and appends again once space returns', async () => {
    const run = await runLimited(dir);
    console.log(`under ulimit -f ${LIMIT_BLOCKS}: ${JSON.stringify(run)}`);
    expect(run.acked).toBeGreaterThan(10);
    expect(run.error).toBe('EFBIG');
    expect(run.retried).toBe('refused');

    const { log, entries, tornTail } = await SegmentedLog.open(dir, 1 << 20);
    // every acknowledged entry is there, whole; nothing of the failed append is
    expect(entries.map((e) => e.index)).toEqual(Array.from({ length: run.acked }, (_, i) => i + 1));
    for (const e of entries)
      expect(Buffer.from(e.data as Uint8Array)).toEqual(Buffer.alloc(300, e.index % 251));
    console.log(`reopened: ${entries.length} entries, torn tail ${JSON.stringify(tornTail)}`);

    const next: LogEntry = {
      index: run.acked + 1,
      term: 2,
      type: 'command',
      data: new Uint8Array([1, 2, 3]),
    };
    await log.append([next]);
    expect(log.lastIndex()).toBe(run.acked + 1);
    const again = await SegmentedLog.open(dir, 1 << 20);
    expect(again.entries.at(-1)).toEqual(next);
    expect(again.tornTail).toBeNull();
  });
});
