/**
 * Test PKI made with the openssl CLI at test time (no keys in the repository): a CA,
 * a valid leaf for target.test/127.0.0.1, the same leaf long expired, expiring in 3
 * and in 10 days, a leaf for another host only, and a self-signed one.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeyPair {
  key: string;
  cert: string;
}

export interface TestCerts {
  ca: string;
  valid: KeyPair;
  expired: KeyPair;
  selfSigned: KeyPair;
  /** notAfter 3 days from now */
  in3Days: KeyPair;
  /** notAfter 10 days from now */
  in10Days: KeyPair;
  /** valid, trusted, for other.test only */
  otherHost: KeyPair;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const SAN = 'subjectAltName=DNS:target.test,IP:127.0.0.1';

export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'ping-certs-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  try {
    ssl(
      'req',
      '-x509',
      ...EC,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '3650',
      '-subj',
      '/CN=ping test CA',
    );
    ssl('req', ...EC, '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=target.test');
    writeFileSync(join(dir, 'ext'), `${SAN}\n`);
    const sign = (out: string, serial: string, days: string, ext = 'ext') =>
      ssl(
        'x509',
        '-req',
        '-in',
        'leaf.csr',
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-set_serial',
        serial,
        '-days',
        days,
        '-extfile',
        ext,
        '-out',
        out,
      );
    sign('valid.crt', '1', '3650');
    sign('in3.crt', '11', '3');
    sign('in10.crt', '12', '10');
    writeFileSync(join(dir, 'ext-other'), 'subjectAltName=DNS:other.test\n');
    sign('other.crt', '13', '3650', 'ext-other');
    // `openssl ca` is the 3.0-compatible way to pick validity dates in the past.
    mkdirSync(join(dir, 'db'));
    writeFileSync(join(dir, 'db/index.txt'), '');
    writeFileSync(join(dir, 'db/serial'), '02\n');
    writeFileSync(
      join(dir, 'ca.cnf'),
      [
        '[ca]',
        'default_ca = t',
        '[t]',
        'database = db/index.txt',
        'new_certs_dir = db',
        'serial = db/serial',
        'default_md = sha256',
        'policy = any',
        'x509_extensions = leaf',
        'unique_subject = no',
        '[any]',
        'commonName = supplied',
        '[leaf]',
        SAN,
        '',
      ].join('\n'),
    );
    ssl(
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-cert',
      'ca.crt',
      '-keyfile',
      'ca.key',
      '-in',
      'leaf.csr',
      '-startdate',
      '20200101000000Z',
      '-enddate',
      '20200201000000Z',
      '-out',
      'expired.crt',
    );
    ssl(
      'req',
      '-x509',
      ...EC,
      '-keyout',
      'self.key',
      '-out',
      'self.crt',
      '-days',
      '3650',
      '-subj',
      '/CN=target.test',
      '-addext',
      SAN,
    );
    return {
      ca: read('ca.crt'),
      valid: { key: read('leaf.key'), cert: read('valid.crt') },
      expired: { key: read('leaf.key'), cert: read('expired.crt') },
      selfSigned: { key: read('self.key'), cert: read('self.crt') },
      in3Days: { key: read('leaf.key'), cert: read('in3.crt') },
      in10Days: { key: read('leaf.key'), cert: read('in10.crt') },
      otherHost: { key: read('leaf.key'), cert: read('other.crt') },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
