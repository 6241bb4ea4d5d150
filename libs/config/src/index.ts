export { ConfigError, loadConfig } from './config';
export type { AppConfig } from './config';
export { envSchema } from './config.schema';
