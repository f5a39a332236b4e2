/**
 * The newest Raft snapshot file under a node's data dir, read the way the disk storage writes
 * it ("RSN1" header: index at byte 4, data length at byte 20, data from byte 28), and the
 * parts of its replicated-state image.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function latestSnapshot(dir: string): { index: number; data: Buffer } | null {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/^snapshot-\d{20}-\d{20}\.snap$/.test(name)) files.push(p);
    }
  };
  try {
    walk(dir);
  } catch {
    return null;
  }
  if (files.length === 0) return null;
  files.sort();
  const buf = readFileSync(files.at(-1)!);
  const index = Number(buf.readBigUInt64BE(4));
  const length = buf.readUInt32BE(20);
  return { index, data: buf.subarray(28, 28 + length) };
}

/** One replicated part (e.g. 'decisions', 'beats') of a snapshot's image, parsed; null if absent. */
export function snapshotPart<T>(snapshot: { data: Buffer }, name: string): T | null {
  const image = JSON.parse(snapshot.data.toString('utf8')) as Record<string, string>;
  if (!image[name]) return null;
  return JSON.parse(Buffer.from(image[name], 'base64').toString('utf8')) as T;
}
