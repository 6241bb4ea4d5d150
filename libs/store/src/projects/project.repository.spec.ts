import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { OPEN_TIMEOUT_MS, TEST_BACKENDS, type TestStore } from '../testing/test-database';
import type { ProjectInput } from './project.repository';

const project = (name: string): ProjectInput => ({
  name,
  repository: 'https://git.example.com/org/wallet.git',
  allowedRefs: ['refs/heads/main', 'refs/tags/v*'],
  recipePath: 'securebuild.yaml',
  imageName: 'registry.example.com/org/wallet',
  webhookProvider: 'github',
  webhookSecretSealed: 'v1.sealed',
  signaturePolicy: { mode: 'ssh', allowedSigners: 'dev@example.com ssh-ed25519 AAAA' },
});

describe.each(TEST_BACKENDS)('ProjectRepository on $kind', (backend) => {
  let db: TestStore;
  beforeAll(async () => {
    db = await backend.open();
  }, OPEN_TIMEOUT_MS);
  afterAll(() => db?.dispose());

  it('creates, reads, lists, updates and deletes projects by name', async () => {
    const created = await db.store.projects.create(project('wallet'));
    expect(created).toMatchObject({ ...project('wallet'), id: expect.any(String) });
    expect(await db.store.projects.get('wallet')).toEqual(created);
    expect(await db.store.projects.getById(created.id)).toEqual(created);
    await db.store.projects.create(project('aardvark'));
    expect((await db.store.projects.list()).map((p) => p.name)).toEqual(['aardvark', 'wallet']);

    const updated = await db.store.projects.update('wallet', {
      allowedRefs: ['refs/heads/release'],
      signaturePolicy: { mode: 'none' },
      imageName: null,
    });
    expect(updated).toMatchObject({
      allowedRefs: ['refs/heads/release'],
      signaturePolicy: { mode: 'none' },
      imageName: null,
      repository: created.repository,
    });
    expect(updated?.updatedAt.getTime()).toBeGreaterThanOrEqual(created.updatedAt.getTime());
    expect(await db.store.projects.update('missing', { recipePath: 'x' })).toBeUndefined();

    expect(await db.store.projects.delete('aardvark')).toBe(true);
    expect(await db.store.projects.delete('aardvark')).toBe(false);
    expect(await db.store.projects.get('aardvark')).toBeUndefined();
    expect(await db.store.projects.getById('not-a-uuid')).toBeUndefined();
  });

  it('refuses a duplicate name on create and on rename', async () => {
    await db.store.projects.create(project('dup-a'));
    await db.store.projects.create(project('dup-b'));
    await expect(db.store.projects.create(project('dup-a'))).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(db.store.projects.update('dup-b', { name: 'dup-a' })).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});
