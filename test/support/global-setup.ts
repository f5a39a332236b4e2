// Jest globalSetup for integration and e2e: PostgreSQL must answer (it is started by the machine)
// and Kafka is started when none answers; both failures stop the run with the reason, never skip.
import { connect } from 'node:net';
import { ensureKafkaDetailed } from './kafka';

const PG_URL = process.env.TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export default async function globalSetup(): Promise<void> {
  await assertPostgresAnswers(PG_URL);
  const kafka = await ensureKafkaDetailed();
  // Workers start after this and inherit the environment.
  process.env.TEST_KAFKA_BROKERS = kafka.brokers;
  if (kafka.startedHere) process.env.TEST_KAFKA_STARTED_BY_SETUP = '1';
}

/**
 * Sends PostgreSQL's SSLRequest, which any server answers with one byte ('S' or 'N') before
 * authentication: it proves a PostgreSQL server listens without needing credentials.
 */
function assertPostgresAnswers(url: string): Promise<void> {
  const { hostname, port } = new URL(url);
  const host = hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const p = Number(port || 5432);
  return new Promise((done, fail) => {
    const socket = connect({ host, port: p });
    const give = (err?: Error) => {
      socket.destroy();
      if (!err) return done();
      fail(
        new Error(
          `tests need PostgreSQL at ${host}:${p}, but it does not answer (${err.message}). ` +
            'Start it (CI: pg_ctlcluster <version> main start) or point TEST_PG_URL at one.',
        ),
      );
    };
    socket.setTimeout(5_000, () => give(new Error('no answer within 5 s')));
    socket.once('error', give);
    socket.once('close', () => give(new Error('connection closed without a reply')));
    socket.once('connect', () => socket.write(Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])));
    socket.once('data', (b) =>
      b[0] === 0x53 || b[0] === 0x4e
        ? give()
        : give(new Error(`unexpected reply 0x${b[0]?.toString(16)} (not PostgreSQL?)`)),
    );
  });
}
