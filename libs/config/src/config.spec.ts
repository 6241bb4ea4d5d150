import { describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('gives embedded defaults for an empty environment', () => {
    const config = loadConfig({}, '/srv');
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      publicUrl: 'http://127.0.0.1:8080',
      redisUrl: 'redis://127.0.0.1:6379',
      databaseUrl: undefined,
      dataDir: '/srv/.secure-build',
      tee: 'simulated',
      allowLocalRepos: false,
      worker: { concurrency: 1 },
      queue: { prefix: 'secure-build', attempts: 3 },
    });
  });

  it('parses every variable', () => {
    const config = loadConfig({
      PORT: '9000',
      REDIS_URL: 'redis://redis:6379/2',
      DATABASE_URL: 'postgres://sb@db/sb',
      SECURE_BUILD_SECRETS_KEY: 'ab'.repeat(32),
      SECURE_BUILD_DATA_DIR: '/var/lib/sb',
      SECURE_BUILD_TEE: 'tdx',
      SECURE_BUILD_ADMIN_TOKEN: 'x'.repeat(32),
      SECURE_BUILD_ALLOW_LOCAL_REPOS: 'true',
      SECURE_BUILD_WORKER_CONCURRENCY: '4',
      SECURE_BUILD_PUBLIC_URL: 'https://build.example.com/',
    });
    expect(config).toMatchObject({
      port: 9000,
      tee: 'tdx',
      allowLocalRepos: true,
      dataDir: '/var/lib/sb',
      publicUrl: 'https://build.example.com',
    });
    expect(config.worker.concurrency).toBe(4);
  });

  it('requires a shared secrets key with PostgreSQL, in hex or base64', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://db/sb' })).toThrow(
      /SECURE_BUILD_SECRETS_KEY: is required with DATABASE_URL/,
    );
    expect(loadConfig({ SECURE_BUILD_SECRETS_KEY: Buffer.alloc(32, 7).toString('base64') }).secretsKey).toEqual(
      Buffer.alloc(32, 7),
    );
    expect(() => loadConfig({ SECURE_BUILD_SECRETS_KEY: 'short' })).toThrow(
      /SECURE_BUILD_SECRETS_KEY: must be 32 bytes/,
    );
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' }).port).toBe(8080);
  });

  it('lists every invalid variable at once', () => {
    try {
      loadConfig({
        PORT: 'eighty',
        SECURE_BUILD_TEE: 'sgx',
        REDIS_URL: 'http://x',
        SECURE_BUILD_ALLOW_LOCAL_REPOS: 'maybe',
        SECURE_BUILD_ADMIN_TOKEN: 'short',
      });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      for (const name of [
        'PORT',
        'SECURE_BUILD_TEE',
        'REDIS_URL',
        'SECURE_BUILD_ALLOW_LOCAL_REPOS',
        'SECURE_BUILD_ADMIN_TOKEN',
      ]) {
        expect(message).toContain(name);
      }
    }
  });
});
