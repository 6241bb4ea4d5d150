import { createPublicKey, verify as verifySignature } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { runCli } from './support/cli';
import { createFixtureRepo, FixtureRepo } from './support/git-fixture';

interface Bundle {
  mediaType: string;
  verificationMaterial: { publicKey: { hint: string } };
  dsseEnvelope: { payload: string; payloadType: string; signatures: { sig: string; keyid: string }[] };
}
interface Descriptor {
  name?: string;
  content?: string;
  digest?: Record<string, string>;
  mediaType?: string;
  annotations?: Record<string, unknown>;
}

const scratch = (): string => mkdtempSync(join(tmpdir(), 'sb-e2e-'));

function writePolicy(dir: string, repository: string, extra = ''): string {
  const path = join(dir, 'policy.yaml');
  writeFileSync(path, `allowSimulated: true\nrepositories: ["${repository}"]\nrequireReproducible: true\n${extra}`);
  return path;
}

function payloadOf(bundle: Bundle): { subject: Descriptor[]; predicate: { runDetails: { byproducts: Descriptor[] } } } {
  return JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
}

function byproduct(bundle: Bundle, name: string): Descriptor {
  const found = payloadOf(bundle).predicate.runDetails.byproducts.find((b) => b.name === name);
  if (!found) throw new Error(`no byproduct ${name}`);
  return found;
}

/** DSSE v1 pre-authentication encoding, written from the spec, independent of sigstore-js. */
function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

describe('secure-build build --local → verify (end to end)', () => {
  let repo: FixtureRepo;
  let out: string;
  let bundlePath: string;
  let bundle: Bundle;
  let manifestDigest: string;
  let work: string;

  beforeAll(async () => {
    repo = createFixtureRepo();
    work = scratch();
    out = join(work, 'out');
    const run = await runCli([
      'build',
      '--local',
      '--repo',
      repo.dir,
      '--commit',
      repo.commits[0],
      '--ref',
      'refs/heads/main',
      '--out',
      out,
      '--allow-local-repo',
      '--json',
    ]);
    expect(run.stderr).toContain('✔ rebuild');
    expect(run.code, run.stderr).toBe(0);
    manifestDigest = JSON.parse(run.stdout).manifestDigest;
    bundlePath = join(out, 'provenance.sigstore.json');
    bundle = JSON.parse(readFileSync(bundlePath, 'utf8'));
  });

  it('writes an OCI layout, the bundle and the build log', () => {
    expect(JSON.parse(readFileSync(join(out, 'oci/oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(readFileSync(join(out, 'oci/index.json'), 'utf8'));
    expect(index.manifests[0].digest).toBe(manifestDigest);
    expect(existsSync(join(out, 'oci/blobs/sha256', manifestDigest.slice(7)))).toBe(true);
    expect(readFileSync(join(out, 'build.log'), 'utf8')).toContain(
      'built wallet-signer at SOURCE_DATE_EPOCH=1735689600',
    );
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
  });

  it('rebuilds the same commit to the same digest in a separate run (new key, new evidence)', async () => {
    const out2 = join(scratch(), 'out');
    const run = await runCli([
      'build',
      '--local',
      '--repo',
      repo.dir,
      '--commit',
      repo.commits[0],
      '--out',
      out2,
      '--allow-local-repo',
      '--no-rebuild',
      '--json',
      '--quiet',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).manifestDigest).toBe(manifestDigest);
    const other: Bundle = JSON.parse(readFileSync(join(out2, 'provenance.sigstore.json'), 'utf8'));
    expect(other.verificationMaterial.publicKey.hint).not.toBe(bundle.verificationMaterial.publicKey.hint);
    expect(byproduct(other, 'reproducibility').annotations).toMatchObject({ result: 'not-checked' });
  });

  it('verifies with the CLI against a policy that allows the simulator', async () => {
    const policy = writePolicy(work, `file://${repo.dir}`, 'refs: ["refs/heads/main"]\n');
    const run = await runCli(['verify', bundlePath, '--policy', policy, '--image-digest', manifestDigest]);
    expect(run.stdout).toContain('VERIFIED');
    expect(run.code, run.stdout).toBe(0);
    const json = await runCli(['verify', bundlePath, '--policy', policy, '--image-digest', manifestDigest, '--json']);
    const report = JSON.parse(json.stdout);
    expect(report.verified).toBe(true);
    expect(report.summary).toMatchObject({ commit: repo.commits[0], tee: 'tdx-sim', reproducibility: 'reproduced' });
    expect(report.checks.map((c: { name: string }) => c.name)).toEqual(
      expect.arrayContaining([
        'dsse.signature',
        'evidence.quote.signature',
        'evidence.report-data.binding',
        'policy.allow-simulated',
        'subject.digest',
      ]),
    );
  });

  it('refuses simulated evidence unless the policy allows it', async () => {
    const dir = scratch();
    const policy = join(dir, 'strict.yaml');
    writeFileSync(policy, `repositories: ["file://${repo.dir}"]\n`);
    const run = await runCli(['verify', bundlePath, '--policy', policy]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/✘ policy\.allow-simulated: evidence comes from the TEE simulator/);
  });

  it('names each failed policy check: wrong image digest, repository, ref', async () => {
    const policy = writePolicy(scratch(), 'https://git.example.com/other/*', 'refs: ["refs/tags/v*"]\n');
    const run = await runCli(['verify', bundlePath, '--policy', policy, '--image-digest', `sha256:${'0'.repeat(64)}`]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/✘ subject\.digest/);
    expect(run.stdout).toMatch(/✘ policy\.repository/);
    expect(run.stdout).toMatch(/✘ policy\.ref: ref 'refs\/heads\/main' is not allowed/);
  });

  it('checks the DSSE signature independently with node:crypto against the signing-key descriptor', () => {
    const key = createPublicKey(Buffer.from(byproduct(bundle, 'signing-key').content ?? '', 'base64').toString('utf8'));
    const payload = Buffer.from(bundle.dsseEnvelope.payload, 'base64');
    const signature = Buffer.from(bundle.dsseEnvelope.signatures[0].sig, 'base64');
    expect(verifySignature('sha256', pae(bundle.dsseEnvelope.payloadType, payload), key, signature)).toBe(true);
    const tampered = Buffer.from(payload);
    tampered[10] ^= 1;
    expect(verifySignature('sha256', pae(bundle.dsseEnvelope.payloadType, tampered), key, signature)).toBe(false);
  });

  describe('single-byte changes make verification fail', () => {
    const tamper = async (mutate: (b: Bundle) => void): Promise<{ code: number | null; failed: string[] }> => {
      const copy: Bundle = JSON.parse(JSON.stringify(bundle));
      mutate(copy);
      const dir = scratch();
      const path = join(dir, 'tampered.json');
      writeFileSync(path, JSON.stringify(copy));
      const run = await runCli(['verify', path, '--policy', writePolicy(dir, `file://${repo.dir}`), '--json']);
      const report = JSON.parse(run.stdout);
      return {
        code: run.code,
        failed: report.checks.filter((c: { ok: boolean }) => !c.ok).map((c: { name: string }) => c.name),
      };
    };
    const editPayload = (b: Bundle, edit: (statement: Record<string, unknown>) => void): void => {
      const statement = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString('utf8'));
      edit(statement);
      b.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    };
    const flipBase64 = (value: string, at: number): string => {
      const bytes = Buffer.from(value, 'base64');
      bytes[at] ^= 0x01;
      return bytes.toString('base64');
    };

    it('in the payload', async () => {
      const result = await tamper((b) => {
        const bytes = Buffer.from(b.dsseEnvelope.payload, 'base64');
        const at = bytes.indexOf(Buffer.from(manifestDigest.slice(7, 20)));
        bytes[at] = bytes[at] === 0x61 ? 0x62 : 0x61;
        b.dsseEnvelope.payload = bytes.toString('base64');
      });
      expect(result.code).toBe(1);
      expect(result.failed).toContain('dsse.signature');
    });

    it('in the signature', async () => {
      const result = await tamper((b) => {
        b.dsseEnvelope.signatures[0].sig = flipBase64(b.dsseEnvelope.signatures[0].sig, 40);
      });
      expect(result.code).toBe(1);
      expect(result.failed).toEqual(['dsse.signature']);
    });

    it('in the quote', async () => {
      const result = await tamper((b) =>
        editPayload(b, (s) => {
          const evidence = (s as ReturnType<typeof payloadOf>).predicate.runDetails.byproducts.find(
            (d) => d.name === 'tee-evidence',
          );
          if (!evidence?.content) throw new Error('no evidence');
          evidence.content = flipBase64(evidence.content, 200);
        }),
      );
      expect(result.code).toBe(1);
      expect(result.failed).toContain('dsse.signature');
      expect(result.failed.some((name) => name.startsWith('evidence.'))).toBe(true);
    });

    it('in the collateral', async () => {
      const result = await tamper((b) =>
        editPayload(b, (s) => {
          const evidence = (s as ReturnType<typeof payloadOf>).predicate.runDetails.byproducts.find(
            (d) => d.name === 'tee-evidence',
          );
          const collateral = evidence?.annotations?.collateral as { tcb_info: string };
          collateral.tcb_info = collateral.tcb_info.replace('"version":3', '"version":4');
        }),
      );
      expect(result.code).toBe(1);
      expect(result.failed).toContain('dsse.signature');
      expect(result.failed).toContain('evidence.collateral.tcb-info.signature');
    });
  });

  it('builds with IBM SE evidence (simulated) and verifies it against the pinned attestation-service key', async () => {
    const out2 = join(scratch(), 'out');
    const run = await runCli([
      'build',
      '--local',
      '--tee',
      'se-simulated',
      '--repo',
      repo.dir,
      '--commit',
      repo.commits[0],
      '--out',
      out2,
      '--allow-local-repo',
      '--no-rebuild',
      '--quiet',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/tee {7}simulated-ibm-se/);
    const verifierKey = readFileSync(join(out2, 'se-verifier.pub.pem'), 'utf8');
    const dir = scratch();
    const policy = join(dir, 'se-policy.yaml');
    writeFileSync(
      policy,
      `allowSimulated: true\nrequireReproducible: false\nrepositories: ["file://${repo.dir}"]\nse:\n  verifierKeys: [${JSON.stringify(verifierKey)}]\n`,
    );
    const verified = await runCli(['verify', join(out2, 'provenance.sigstore.json'), '--policy', policy]);
    expect(verified.code, verified.stdout).toBe(0);
    expect(verified.stdout).toMatch(/✔ evidence\.se\.signature/);
    const unpinned = join(dir, 'unpinned.yaml');
    writeFileSync(unpinned, `allowSimulated: true\nrequireReproducible: false\nrepositories: ["file://${repo.dir}"]\n`);
    const refused = await runCli(['verify', join(out2, 'provenance.sigstore.json'), '--policy', unpinned]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/✘ evidence\.se\.verifier-key/);
  });

  it('fails a build whose output is not reproducible and names the differing file', async () => {
    const flaky = createFixtureRepo(undefined, {
      'build.sh':
        '#!/bin/sh\nset -eu\nmkdir -p dist/bin\necho ok > dist/bin/stable\nhead -c 16 /dev/urandom > dist/nonce\n',
    });
    const run = await runCli([
      'build',
      '--local',
      '--repo',
      flaky.dir,
      '--commit',
      flaky.commits[1],
      '--out',
      join(scratch(), 'out'),
      '--allow-local-repo',
      '--quiet',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/not reproducible/);
    expect(run.stderr).toMatch(/app\/nonce \(content\)/);
    expect(run.stderr).not.toMatch(/stable/);
  });

  it.each([
    [['--commit', 'abc1234'], /abbreviated/i],
    [['--commit', 'main'], /ref|commit/i],
    [['--repo', 'ext::sh -c touch% /tmp/pwned'], /ext::|transport|not allowed/i],
    [['--repo', '-uhttps://example.com/x.git'], /option|-/i],
    [['--repo', 'https://user:secret@example.com/x.git'], /credential/i],
  ])('refuses bad input %j with exit 2 and a clear message', async (override, message) => {
    const args = { '--repo': repo.dir, '--commit': repo.commits[0] } as Record<string, string>;
    args[override[0]] = override[1];
    const run = await runCli([
      'build',
      '--local',
      '--repo',
      args['--repo'],
      '--commit',
      args['--commit'],
      '--out',
      join(scratch(), 'out'),
      '--allow-local-repo',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toContain('secret');
  });

  it('refuses a local repository without --allow-local-repo', async () => {
    const run = await runCli([
      'build',
      '--local',
      '--repo',
      repo.dir,
      '--commit',
      repo.commits[0],
      '--out',
      join(scratch(), 'out'),
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--allow-local-repo/);
  });

  it('exits 2 for usage and unreadable input in verify', async () => {
    expect((await runCli(['verify', bundlePath])).code).toBe(2);
    expect(
      (await runCli(['verify', join(work, 'missing.json'), '--policy', writePolicy(scratch(), `file://${repo.dir}`)]))
        .code,
    ).toBe(2);
    const bad = join(scratch(), 'bad-policy.yaml');
    writeFileSync(bad, 'allowSimulated: maybe\n');
    const run = await runCli(['verify', bundlePath, '--policy', bad]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/allowSimulated/);
  });
});
