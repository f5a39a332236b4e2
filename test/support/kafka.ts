// The Kafka broker tests run against: TEST_KAFKA_BROKERS when set, else the local broker that
// scripts/kafka/kafka.sh starts (or finds) on 127.0.0.1. Unreachable is an error, never a skip.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

const SCRIPT = resolve(__dirname, '../../scripts/kafka/kafka.sh');
/** A cold first run downloads Kafka through Maven; later runs take seconds. */
const ENSURE_TIMEOUT_MS = 10 * 60_000;

export interface KafkaForTests {
  /** comma-separated broker addresses */
  brokers: string;
  /** true when this call launched the broker (so a teardown may stop it) */
  startedHere: boolean;
}

export async function ensureKafka(): Promise<string> {
  return (await ensureKafkaDetailed()).brokers;
}

export async function ensureKafkaDetailed(): Promise<KafkaForTests> {
  const fromEnv = process.env.TEST_KAFKA_BROKERS?.trim();
  if (fromEnv) return { brokers: fromEnv, startedHere: false };
  const port = process.env.KAFKA_TEST_PORT ?? '19092';
  const { stderr } = await runScript('ensure');
  // kafka.sh prints "ready on" only when it launched the JVM itself.
  return { brokers: `127.0.0.1:${port}`, startedHere: stderr.includes('ready on 127.0.0.1') };
}

export async function stopKafka(): Promise<void> {
  await runScript('stop');
}

function runScript(command: 'ensure' | 'stop'): Promise<{ stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    execFile(
      'bash',
      [SCRIPT, command],
      { timeout: ENSURE_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024, env: process.env },
      (err, stdout, stderr) => {
        if (!err) return done({ stdout, stderr });
        fail(
          new Error(
            `tests need Kafka, but \`${SCRIPT} ${command}\` failed (${err.message.split('\n')[0]}).\n` +
              `${stderr.trim()}\n` +
              'Fix the broker (see .kafka/kafka.log) or point TEST_KAFKA_BROKERS at a running one.',
            { cause: err },
          ),
        );
      },
    );
  });
}
