import { existsSync } from 'node:fs';
import { AppConfig, ConfigError, loadConfig } from './app-config';

/**
 * Entry points' config step: a .env in the working directory fills unset
 * variables, then the environment is parsed once; any bad variable prints one
 * line each and exits with EX_CONFIG (78) before anything else loads.
 */
export function readConfigOrExit(): AppConfig {
  if (existsSync('.env')) process.loadEnvFile('.env');
  try {
    return loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) exitWithConfigProblems(e.problems);
    throw e;
  }
}

export function exitWithConfigProblems(problems: string[]): never {
  for (const p of problems) process.stderr.write(`config error: ${p}\n`);
  process.exit(78); // EX_CONFIG
}
