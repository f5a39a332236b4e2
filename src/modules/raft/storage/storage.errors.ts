/**
 * Raised when Raft's files on disk are damaged in a way recovery must not
 * paper over (a bad record followed by good ones, a gap between segments, a
 * snapshot failing its checksum). The node refuses to start: guessing could
 * silently lose or invent committed entries. Names the file and byte offset.
 */
export class RaftStorageCorruptionError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`raft storage is corrupted: ${reason} in ${file} at offset ${offset}; refusing to start`);
    this.name = 'RaftStorageCorruptionError';
  }
}
