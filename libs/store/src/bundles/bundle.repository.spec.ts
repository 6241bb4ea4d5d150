import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { OPEN_TIMEOUT_MS, TEST_BACKENDS, type TestStore } from '../testing/test-database';

describe.each(TEST_BACKENDS)('BundleRepository on $kind', (backend) => {
  let db: TestStore;
  beforeAll(async () => {
    db = await backend.open();
  }, OPEN_TIMEOUT_MS);
  afterAll(() => db?.dispose());

  async function succeededBuild(subjects: { algorithm: string; digest: string; name?: string }[], bundleJson: string) {
    const { build } = await db.store.builds.create({
      repository: 'https://example.test/r.git',
      commit: 'a'.repeat(40),
      recipePath: 'build.yaml',
    });
    await db.store.builds.start(build.id, { workerId: 'w', attempt: 1 });
    const result = await db.store.builds.complete(build.id, {
      manifestDigest: `sha256:${'0'.repeat(64)}`,
      bundleJson,
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      signingKeySha256: 'c'.repeat(64),
      subjects,
    });
    expect(result).toBe('completed');
    return build.id;
  }

  it('finds every bundle attesting a digest, oldest first, case-insensitively', async () => {
    const shared = '1a'.repeat(32);
    const first = await succeededBuild(
      [
        { algorithm: 'sha256', digest: shared.toUpperCase(), name: 'image' },
        { algorithm: 'sha256', digest: shared, name: 'duplicate' },
        { algorithm: 'sha256', digest: '2b'.repeat(32) },
      ],
      '{ "first": true }',
    );
    const second = await succeededBuild([{ algorithm: 'SHA256', digest: shared }], '{"second":true}\n');
    await db.sql.query(`UPDATE bundles SET created_at = created_at - interval '1 day' WHERE build_id = $1`, [first]);

    const found = await db.store.bundles.findBySubject('sha256', shared.toUpperCase());
    expect(found.map((b) => [b.buildId, b.bundleJson])).toEqual([
      [first, '{ "first": true }'],
      [second, '{"second":true}\n'],
    ]);
    expect(found[0].createdAt).toBeInstanceOf(Date);
    expect(found[0].mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect((await db.store.bundles.findBySubject('sha256', '2b'.repeat(32))).map((b) => b.buildId)).toEqual([first]);
    expect(await db.store.bundles.findBySubject('sha256', '3c'.repeat(32))).toEqual([]);
    expect(await db.store.bundles.findBySubject('sha512', shared)).toEqual([]);

    const subjects = await db.sql.query<{ digest: string; name: string | null }>(
      'SELECT digest, name FROM bundle_subjects WHERE build_id = $1 ORDER BY digest',
      [first],
    );
    expect(subjects.rows).toEqual([
      { digest: shared, name: 'image' },
      { digest: '2b'.repeat(32), name: null },
    ]);
  });

  it('returns undefined for builds without a bundle', async () => {
    expect(await db.store.bundles.get('00000000-0000-4000-8000-000000000000')).toBeUndefined();
    expect(await db.store.bundles.get('nope')).toBeUndefined();
  });
});
