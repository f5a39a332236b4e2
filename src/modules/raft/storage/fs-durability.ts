import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The two durability primitives the storage is built from. Invariant: after
 * `writeFileAtomic` resolves, the file holds either its old or its new
 * content after any crash, never a mix, and the new content survives power loss.
 */

/** fsync a directory, so that file creations, renames and deletions in it are durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** write temp (`data`, or its parts in order) → fsync → rename over the target → fsync the directory */
export async function writeFileAtomic(
  dir: string,
  name: string,
  data: Uint8Array | readonly Uint8Array[],
): Promise<void> {
  const target = join(dir, name);
  const temp = `${target}.tmp`;
  const handle = await open(temp, 'w');
  try {
    for (const part of data instanceof Uint8Array ? [data] : data) await handle.writeFile(part);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, target);
  await fsyncDir(dir);
}

export async function unlinkIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
