import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { describe, expect, it } from 'vitest';

import { api, api as apiCall, serviceEnv, startService, TEST_ADMIN_TOKEN } from './support/service-harness';

const ROOT = resolve(__dirname, '..');

function runToExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['dist/apps/api/src/main.js', '--with-worker'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('exit', (code) => done({ code, output }));
  });
}

describe('service boot', () => {
  it('exits with instructions when Redis is not reachable', async () => {
    const { code, output } = await runToExit(serviceEnv({ REDIS_URL: 'redis://127.0.0.1:1' }));
    expect(code).toBe(1);
    expect(output).toMatch(/Redis is not reachable at redis:\/\/127\.0\.0\.1:1/);
    expect(output).toMatch(/redis-server --daemonize yes/);
  });

  it('refuses invalid configuration at boot, naming every bad variable', async () => {
    const { code, output } = await runToExit(serviceEnv({ PORT: 'eighty', SECURE_BUILD_TEE: 'sgx' }));
    expect(code).toBe(1);
    expect(output).toMatch(/PORT/);
    expect(output).toMatch(/SECURE_BUILD_TEE/);
  });

  it('a worker whose evidence fails the builder policy takes no builds, and /v1/builders says why', async () => {
    const env = serviceEnv();
    const policy = join(env.SECURE_BUILD_DATA_DIR, 'builder-policy.yaml');
    writeFileSync(policy, `allowSimulated: true\ntdx:\n  mrtd: ["${'ab'.repeat(48)}"]\n`);
    const refused = await runToExit({ ...env, SECURE_BUILD_BUILDER_POLICY: policy });
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/fails the builder policy, so it takes no builds: policy\.tdx\.mrtd/);

    const api = await startService('api', env);
    try {
      const builders = await apiCall<{ items: { status: string; assessment: { failed: { name: string }[] } }[] }>(
        api.url,
        'GET',
        '/v1/builders',
        {
          token: TEST_ADMIN_TOKEN,
        },
      );
      expect(builders.body.items[0]).toMatchObject({
        status: 'rejected',
        assessment: { failed: [{ name: 'policy.tdx.mrtd' }] },
      });
    } finally {
      await api.stop();
    }
  });

  it('prints a generated admin token once, on the first start only, and it works', async () => {
    const env = serviceEnv();
    delete env.SECURE_BUILD_ADMIN_TOKEN;
    const first = await startService('combined', env);
    let token: string;
    try {
      token = /\n {2}(sbt_[A-Za-z0-9_-]+)\n/.exec(first.output())?.[1] ?? '';
      expect(token).toMatch(/^sbt_/);
      const created = await api<{ token: string }>(first.url, 'POST', '/v1/tokens', {
        token,
        body: { name: 'ci', scopes: ['builds:read'] },
      });
      expect(created.status).toBe(201);
    } finally {
      expect(await first.stop()).toBe(0);
    }
    const second = await startService('combined', env);
    try {
      expect(second.output()).not.toMatch(/sbt_/);
      expect((await api(second.url, 'GET', '/v1/builds', { token })).status).toBe(200);
    } finally {
      await second.stop();
    }
  });
});
