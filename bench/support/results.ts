import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

/** One line of machine facts for a results section: results are only comparable with them. */
export function machineFacts(): string {
  const cpu = cpus()[0]?.model ?? 'unknown';
  return (
    `Machine: ${cpus().length} CPUs (nproc), ${cpu}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ` +
    `Node ${process.version}, ${process.platform}; load average at start ${loadavg()[0].toFixed(2)}.`
  );
}

/** Prints a section and appends it to the results file ("-" prints only). */
export function recordResults(file: string, section: string): void {
  process.stdout.write(section + '\n');
  if (file === '-') return;
  if (!existsSync(file)) writeFileSync(file, '# Benchmark results\n\n');
  appendFileSync(file, section.endsWith('\n') ? section + '\n' : section + '\n\n');
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
