/**
 * Why a secret would be unsafe in production: a placeholder copied from a file
 * (change-me, example, test, ...), one repeated character, or too little
 * entropy for an HMAC key. A production node refuses such secrets at boot.
 */

// Words that mark a value someone was meant to replace, or one found in docs and tests.
const PLACEHOLDER_WORDS = [
  'change-me',
  'changeme',
  'change_me',
  'replace',
  'secret',
  'example',
  'password',
  'passwd',
  'test',
  'default',
  'placeholder',
  'dummy',
  'sample',
  'todo',
  'fixme',
  'insecure',
  'qwerty',
  '123456',
  'abcdef',
];

/**
 * Entropy a secret must carry, estimated as length × empirical Shannon entropy
 * per character. 32 random base64 characters give about 145 bits, 32 random hex
 * characters about 115; English phrases and keyboard walks fall well short.
 */
export const MIN_SECRET_BITS = 100;

/** Bits estimated from the character frequencies of `s` (a generous upper bound for people). */
export function estimatedBits(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  const n = [...s].length;
  let h = 0;
  for (const c of counts.values()) h -= (c / n) * Math.log2(c / n);
  return h * n;
}

/** null when `value` is fit for production, else the reason (no part of the value itself). */
export function weakSecretReason(value: string): string | null {
  const lower = value.toLowerCase();
  const word = PLACEHOLDER_WORDS.find((w) => lower.includes(w));
  if (word) return `looks like a placeholder (contains "${word}")`;
  if (/^(.)\1*$/su.test(value)) return 'is one repeated character';
  if (/^(.{1,4})\1+$/su.test(value)) return 'is a short repeated pattern';
  const bits = Math.floor(estimatedBits(value));
  if (bits < MIN_SECRET_BITS)
    return `has too little entropy (about ${bits} bits, at least ${MIN_SECRET_BITS} needed)`;
  return null;
}
