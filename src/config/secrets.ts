import { createHmac, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppConfig } from './app-config';

/**
 * Fills secrets the operator did not set. A single node generates them once and
 * keeps them under DATA_DIR/secrets (mode 0600) so tokens survive a restart.
 * Clusters must set CLUSTER_SECRET explicitly (loadConfig enforces it).
 */
export async function resolveSecrets(config: AppConfig): Promise<void> {
  const dir = join(config.dataDir, 'secrets');
  if (!config.security.jwtSecret) {
    config.security.jwtSecret = await loadOrCreate(join(dir, 'jwt.key'), 48);
  }
  if (!config.apiKeys.pepper) {
    // Every node that shares JWT_SECRET verifies the same API keys; API_KEY_PEPPER decouples
    // them, so that rotating JWT_SECRET (which ends every session) does not void every API key.
    config.apiKeys.pepper = createHmac('sha256', config.security.jwtSecret)
      .update('uptime-validator/api-key-pepper/v1')
      .digest('base64url');
  }
  if (!config.security.clusterSecret) {
    config.security.clusterSecret = await loadOrCreate(join(dir, 'cluster.key'), 32);
  }
}

async function loadOrCreate(file: string, bytes: number): Promise<string> {
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.length >= 32) return existing;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const value = randomBytes(bytes).toString('base64url');
  await mkdir(join(file, '..'), { recursive: true, mode: 0o700 });
  await writeFile(file, value + '\n', { mode: 0o600, flag: 'w' });
  return value;
}
