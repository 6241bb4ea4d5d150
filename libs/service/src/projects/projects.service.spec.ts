import { randomBytes } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Store } from '@secure-build/store';

import { SecretBox } from '../secrets/secret-box';
import { openTestStore } from '../testing/service-fixture';
import { ProjectsService, webhookSecretPurpose } from './projects.service';

const REPOSITORY = 'https://git.example.com/org/wallet.git';
const SECRET = 'projects-spec-secret-0000001';

describe(ProjectsService.name, () => {
  let store: Store;
  let secrets: SecretBox;
  let service: ProjectsService;
  let counter = 0;
  const uniqueName = () => `p-${++counter}-${randomBytes(3).toString('hex')}`;
  const create = (name: string, secret: string | null = SECRET) =>
    service.create({
      name,
      repository: REPOSITORY,
      allowedRefs: ['refs/heads/main'],
      ...(secret ? { webhook: { provider: 'github', secret } } : {}),
    });

  beforeAll(async () => {
    store = await openTestStore();
    secrets = new SecretBox(randomBytes(32));
    service = new ProjectsService(store, secrets, { publicUrl: 'https://build.example.com', allowLocalRepos: false });
  });
  afterAll(async () => store.close());

  it('seals the webhook secret bound to the project id; it opens back to the plaintext', async () => {
    const name = uniqueName();
    const view = await create(name);
    const record = await store.projects.get(name);
    const sealed = record?.webhookSecretSealed ?? '';
    expect(sealed).toMatch(/^v1\./);
    expect(sealed).not.toContain(SECRET);
    expect(secrets.open(sealed, webhookSecretPurpose(view.id))).toBe(SECRET);
    // Copied into another project's row, it does not open.
    const other = await create(uniqueName(), null);
    expect(() => secrets.open(sealed, webhookSecretPurpose(other.id))).toThrow(/cannot be opened/);
    // Another key does not open it either.
    expect(() => new SecretBox(randomBytes(32)).open(sealed, webhookSecretPurpose(view.id))).toThrow(
      /cannot be opened/,
    );
  });

  it('never shows the secret: create, get, list and update views only say it is configured', async () => {
    const name = uniqueName();
    const created = await create(name);
    expect(created.webhook).toEqual({
      provider: 'github',
      secretConfigured: true,
      url: `https://build.example.com/v1/webhooks/github/${name}`,
    });
    const newSecret = 'another-secret-of-the-project-2';
    const views = [
      created,
      await service.get(name),
      await service.list(),
      await service.update(name, { allowedRefs: ['refs/heads/*'] }),
      await service.update(name, { webhook: { provider: 'github', secret: newSecret } }),
    ];
    for (const view of views) {
      const text = JSON.stringify(view);
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(newSecret);
      expect(text).not.toContain('v1.');
    }
  });

  it('a new secret is sealed afresh; the old one no longer opens from the row', async () => {
    const name = uniqueName();
    const { id } = await create(name);
    const before = (await store.projects.get(name))?.webhookSecretSealed ?? '';
    const newSecret = 'rotated-secret-of-the-project-3';
    const view = await service.update(name, { webhook: { provider: 'gitlab', secret: newSecret } });
    expect(view.webhook).toMatchObject({ provider: 'gitlab', secretConfigured: true });
    const after = (await store.projects.get(name))?.webhookSecretSealed ?? '';
    expect(after).not.toBe(before);
    expect(after).toMatch(/^v1\./);
    expect(secrets.open(after, webhookSecretPurpose(id))).toBe(newSecret);

    // The same secret again still gets a new sealing (fresh IV).
    await service.update(name, { webhook: { provider: 'gitlab', secret: newSecret } });
    expect((await store.projects.get(name))?.webhookSecretSealed).not.toBe(after);
  });

  it('other changes keep the sealed secret; a rename keeps it usable (the purpose is the id)', async () => {
    const name = uniqueName();
    const { id } = await create(name);
    const sealed = (await store.projects.get(name))?.webhookSecretSealed;
    const renamed = uniqueName();
    const view = await service.update(name, { name: renamed, allowedRefs: ['refs/tags/v*'], recipePath: 'x.yaml' });
    expect(view).toMatchObject({ id, name: renamed, allowedRefs: ['refs/tags/v*'], recipePath: 'x.yaml' });
    const record = await store.projects.get(renamed);
    expect(record?.webhookSecretSealed).toBe(sealed);
    expect(secrets.open(record?.webhookSecretSealed ?? '', webhookSecretPurpose(id))).toBe(SECRET);
    await expect(service.get(name)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('webhook: null removes the provider and the sealed secret', async () => {
    const name = uniqueName();
    await create(name);
    const view = await service.update(name, { webhook: null });
    expect(view.webhook).toBeNull();
    expect(await store.projects.get(name)).toMatchObject({ webhookProvider: null, webhookSecretSealed: null });
  });

  it('refuses invalid input naming the field, storing nothing', async () => {
    const before = (await service.list()).items.length;
    await expect(
      service.create({
        name: 'x',
        repository: REPOSITORY,
        allowedRefs: ['refs/heads/main'],
        webhook: { provider: 'github', secret: 'short' },
      }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'webhook.secret' } });
    await expect(
      service.create({
        name: 'x',
        repository: REPOSITORY,
        allowedRefs: ['refs/heads/main'],
        signaturePolicy: { mode: 'ssh', allowedSigners: 'key\u0000' },
      }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'signaturePolicy.allowedSigners' } });
    expect((await service.list()).items.length).toBe(before);
  });

  it('a taken name is CONFLICT; unknown names (including ones no project can have) are NOT_FOUND', async () => {
    const name = uniqueName();
    await create(name);
    await expect(create(name)).rejects.toMatchObject({ code: 'CONFLICT' });
    for (const missing of ['missing', 'nul\u0000name', 'x'.repeat(300)]) {
      await expect(service.get(missing)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(service.update(missing, { recipePath: 'x.yaml' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(service.delete(missing)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    }
    await service.delete(name);
    await expect(service.get(name)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(service.delete(name)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
