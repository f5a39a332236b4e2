/**
 * Reads a response body up to a byte bound, looking for a keyword across chunk
 * boundaries, and stops (destroying the stream) as soon as the answer is known.
 * Memory stays O(chunk + keyword), whatever the body size.
 */

export interface BodyScan {
  found: boolean;
  /** bytes examined (at most the bound) */
  bytes: number;
}

export async function scanBody(
  body: AsyncIterable<Buffer>,
  keyword: Buffer | undefined,
  maxBytes: number,
): Promise<BodyScan> {
  let bytes = 0;
  // The last keyword.length-1 bytes of what came before: a match may straddle chunks.
  let carry = Buffer.alloc(0);
  // Leaving the loop early calls the iterator's return(), which destroys the stream.
  for await (const raw of body) {
    const chunk = raw.subarray(0, maxBytes - bytes);
    bytes += chunk.length;
    if (keyword && keyword.length > 0) {
      const window = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      if (window.indexOf(keyword) !== -1) return { found: true, bytes };
      carry = Buffer.from(window.subarray(Math.max(0, window.length - (keyword.length - 1))));
    }
    if (bytes >= maxBytes) break;
  }
  return { found: keyword === undefined || keyword.length === 0, bytes };
}

/** The body up to `maxBytes` in one buffer (for assertions that need all of it). */
export async function readBounded(
  body: AsyncIterable<Buffer>,
  maxBytes: number,
): Promise<{ body: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let truncated = false;
  for await (const raw of body) {
    const chunk = raw.subarray(0, maxBytes - bytes);
    chunks.push(chunk);
    bytes += chunk.length;
    if (bytes >= maxBytes) {
      truncated = chunk.length < raw.length || bytes > maxBytes;
      break;
    }
  }
  return { body: Buffer.concat(chunks, bytes), truncated };
}
