import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fetchPinnedCommit } from '../fetch-pinned-commit';
import { SourceError, type SourceErrorCode } from '../source.error';
import type { SignaturePolicy } from './signature-policy';
import { verifyCommitSignature } from './verify-commit-signature';
import { fixtureGitEnv } from '../testing/fixture-git-env';

let root: string;
let repo: string;
let signerHome: string;
let fixtureEnv: Record<string, string>;

/** Runs a fixture command (not the code under test). */
function run(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string>; input?: string } = {}) {
  return execFileSync(cmd, args, {
    cwd: opts.cwd ?? root,
    env: { ...fixtureEnv, ...opts.env },
    encoding: 'utf8',
    input: opts.input,
    stdio: ['pipe', 'pipe', 'pipe'],
  }).trim();
}

function git(args: string[], env: Record<string, string> = {}): string {
  return run('git', args, { cwd: repo, env });
}

/** Makes an empty commit, optionally signed with extra `-c` settings; returns its id. */
function commit(message: string, signing: string[] = [], env: Record<string, string> = {}): string {
  const sign = signing.length > 0 ? ['-S'] : [];
  git([...signing, 'commit', '-q', '--allow-empty', ...sign, '-m', message], env);
  return git(['rev-parse', 'HEAD']);
}

function sshKey(name: string): { path: string; publicKey: string; fingerprint: string } {
  const path = join(root, name);
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', path]);
  const publicKey = readFileSync(`${path}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
  const fingerprint = run('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${path}.pub`]).split(' ')[1];
  return { path, publicKey, fingerprint };
}

function sshSigned(message: string, keyPath: string): string {
  return commit(message, ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${keyPath}`]);
}

function gpg(args: string[], input?: string): string {
  return run('gpg', ['--homedir', signerHome, '--batch', '--no-tty', ...args], { input });
}

/** Fingerprints of a key in the signer keyring: primary first, then subkeys. */
function fingerprints(uid: string): string[] {
  return gpg(['--with-colons', '--list-keys', uid])
    .split('\n')
    .filter((l) => l.startsWith('fpr:'))
    .map((l) => l.split(':')[9]);
}

function gpgKey(uid: string, usage: 'sign' | 'cert'): string {
  gpg(['--passphrase', '', '--quick-gen-key', uid, 'ed25519', usage, 'never']);
  return fingerprints(uid)[0];
}

function gpgSigned(message: string, fingerprint: string): string {
  return commit(message, ['-c', 'gpg.program=gpg', '-c', `user.signingkey=${fingerprint}`], {
    GNUPGHOME: signerHome,
  });
}

function exportKeys(...fprs: string[]): string {
  return gpg(['--armor', '--export', ...fprs]);
}

async function rejection(promise: Promise<unknown>, code: SourceErrorCode): Promise<SourceError> {
  const err = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SourceError);
  expect((err as SourceError).code).toBe(code);
  return err as SourceError;
}

const verify = (commitId: string, policy: SignaturePolicy, dir = repo) =>
  verifyCommitSignature({ dir, commit: commitId, policy });

let alice: ReturnType<typeof sshKey>;
let mallory: ReturnType<typeof sshKey>;
let allowAlice: SignaturePolicy;
let sshGood: string;
let sshUnlisted: string;
let unsigned: string;
let tampered: string;
let pgpAlice: string;
let pgpSub: string;
let pgpRevoked: string;
let pgpUnknown: string;
let fprAlice: string;
let fprSubPrimary: string;
let fprSubSigning: string;
let fprRevoked: string;
let fprUnknown: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'signature-spec-'));
  signerHome = join(root, 'gnupg-signer');
  mkdirSync(signerHome, { mode: 0o700 });
  fixtureEnv = fixtureGitEnv(root, {
    // 2020-09-13: after the valid-before="20200101" of the expiry test.
    GIT_COMMITTER_DATE: '1600000000 +0000',
    GNUPGHOME: signerHome,
  });
  repo = join(root, 'repo');
  mkdirSync(repo);
  git(['init', '-q', '-b', 'main']);

  alice = sshKey('alice');
  mallory = sshKey('mallory');
  allowAlice = { mode: 'ssh', allowedSigners: `# team\nalice@example.org ${alice.publicKey} laptop\n` };
  unsigned = commit('unsigned');
  sshGood = sshSigned('by alice', alice.path);
  sshUnlisted = sshSigned('by mallory', mallory.path);
  // Same signature, different message: the signature no longer covers the commit.
  const raw = git(['cat-file', 'commit', sshGood]);
  tampered = run('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], {
    cwd: repo,
    input: `${raw.replace(/by alice$/, 'by alice, edited')}\n`,
  });

  fprAlice = gpgKey('Alice <alice@example.org>', 'sign');
  gpgKey('Sub <sub@example.org>', 'cert');
  fprSubPrimary = fingerprints('Sub <sub@example.org>')[0];
  gpg(['--passphrase', '', '--quick-add-key', fprSubPrimary, 'ed25519', 'sign', 'never']);
  fprSubSigning = fingerprints('Sub <sub@example.org>')[1];
  fprRevoked = gpgKey('Revoked <revoked@example.org>', 'sign');
  fprUnknown = gpgKey('Unknown <unknown@example.org>', 'sign');
  pgpAlice = gpgSigned('pgp by alice', fprAlice);
  pgpSub = gpgSigned('pgp by a signing subkey', fprSubSigning);
  pgpRevoked = gpgSigned('pgp by a key revoked later', fprRevoked);
  pgpUnknown = gpgSigned('pgp by a key nobody provides', fprUnknown);
  // quick-gen-key stores a revocation certificate, with its armor line disarmed by a leading ":".
  const revocation = readFileSync(join(signerHome, 'openpgp-revocs.d', `${fprRevoked}.rev`), 'utf8');
  gpg(['--import'], revocation.replace(/^:-----/m, '-----'));
});

afterAll(() => {
  try {
    run('gpgconf', ['--homedir', signerHome, '--kill', 'gpg-agent']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

describe('verifyCommitSignature', () => {
  it('mode none accepts anything without running git', async () => {
    await expect(
      verifyCommitSignature({ dir: join(root, 'missing'), commit: 'a'.repeat(40), policy: { mode: 'none' } }),
    ).resolves.toEqual({ method: 'none' });
  });

  describe('ssh', () => {
    it('accepts a commit signed by an allowed signer and reports principal and SHA256 fingerprint', async () => {
      expect(alice.fingerprint).toMatch(/^SHA256:/);
      await expect(verify(sshGood, allowAlice)).resolves.toEqual({
        method: 'ssh',
        signer: 'alice@example.org',
        keyFingerprint: alice.fingerprint,
        verified: true,
      });
    });

    it('accepts options namespaces, valid-after and a future valid-before', async () => {
      const allowedSigners = `alice@example.org,bob@example.org namespaces="git",valid-after="20190101",valid-before="20300101Z" ${alice.publicKey}\n`;
      await expect(verify(sshGood, { mode: 'ssh', allowedSigners })).resolves.toMatchObject({
        method: 'ssh',
        signer: 'alice@example.org',
      });
    });

    it('works on a shallow checkout made by fetchPinnedCommit', async () => {
      const dir = join(root, 'checkout-ssh');
      await fetchPinnedCommit({ repository: repo, commit: sshGood, destDir: dir, allowLocal: true });
      await expect(verify(sshGood, allowAlice, dir)).resolves.toMatchObject({ signer: 'alice@example.org' });
    });

    it('fails with SIGNATURE_MISSING for an unsigned commit', async () => {
      const err = await rejection(verify(unsigned, allowAlice), 'SIGNATURE_MISSING');
      expect(err.message).toBe(`commit ${unsigned} is not signed`);
    });

    it('fails with SIGNATURE_UNTRUSTED for a key not in allowed_signers, although ssh-keygen calls it "Good"', async () => {
      const err = await rejection(verify(sshUnlisted, allowAlice), 'SIGNATURE_UNTRUSTED');
      expect(err.message).toContain(mallory.fingerprint);
      expect(err.details).toMatchObject({ status: 'U', keyFingerprint: mallory.fingerprint });
    });

    it('fails with SIGNATURE_UNTRUSTED when the entry expired before the committer time (valid-before)', async () => {
      const expired = `alice@example.org valid-before="20200101" ${alice.publicKey}\n`;
      await rejection(verify(sshGood, { mode: 'ssh', allowedSigners: expired }), 'SIGNATURE_UNTRUSTED');
      const notYet = `alice@example.org valid-after="20210101" ${alice.publicKey}\n`;
      await rejection(verify(sshGood, { mode: 'ssh', allowedSigners: notYet }), 'SIGNATURE_UNTRUSTED');
    });

    it('judges validity at the committer time, which the signer chooses', async () => {
      // Documented limitation: a backdated commit passes an entry that has since expired.
      const backdated = commit('backdated', ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${alice.path}`], {
        GIT_COMMITTER_DATE: '1500000000 +0000',
      });
      const expired = `alice@example.org valid-before="20200101" ${alice.publicKey}\n`;
      await expect(verify(backdated, { mode: 'ssh', allowedSigners: expired })).resolves.toMatchObject({
        verified: true,
      });
    });

    it('fails with SIGNATURE_INVALID for a signature that does not cover the commit', async () => {
      const err = await rejection(verify(tampered, allowAlice), 'SIGNATURE_INVALID');
      expect(err.message).toMatch(/bad signature/);
    });

    it('fails with SIGNATURE_INVALID when the entry does not allow the "git" namespace', async () => {
      const fileOnly = `alice@example.org namespaces="file" ${alice.publicKey}\n`;
      await rejection(verify(sshGood, { mode: 'ssh', allowedSigners: fileOnly }), 'SIGNATURE_INVALID');
    });

    it('refuses an OpenPGP-signed commit as untrusted', async () => {
      await rejection(verify(pgpAlice, allowAlice), 'SIGNATURE_UNTRUSTED');
    });

    it('ignores verifier programs, trust files and hooks named by the repository config', async () => {
      const evilRepo = join(root, 'evil-config');
      await fetchPinnedCommit({ repository: repo, commit: sshUnlisted, destDir: evilRepo, allowLocal: true });
      const marker = join(root, 'evil-ran');
      const evil = join(root, 'evil.sh');
      writeFileSync(evil, `#!/bin/sh\ntouch ${marker}\nexit 0\n`);
      chmodSync(evil, 0o755);
      const trustsMallory = join(root, 'trusts-mallory');
      writeFileSync(trustsMallory, `mallory@example.org ${mallory.publicKey}\n`);
      for (const [key, value] of [
        ['gpg.ssh.program', evil],
        ['gpg.program', evil],
        ['gpg.openpgp.program', evil],
        ['gpg.ssh.allowedSignersFile', trustsMallory],
        ['core.fsmonitor', evil],
        ['core.hooksPath', root],
      ]) {
        run('git', ['config', key, value], { cwd: evilRepo });
      }
      await rejection(verify(sshUnlisted, allowAlice, evilRepo), 'SIGNATURE_UNTRUSTED');
      await rejection(
        verify(sshUnlisted, { mode: 'openpgp', fingerprints: [fprAlice], publicKeys: exportKeys(fprAlice) }, evilRepo),
        'SIGNATURE_UNTRUSTED',
      );
      expect(existsSync(marker)).toBe(false);
    });
  });

  describe('openpgp', () => {
    it('accepts an allowed fingerprint (any case) although the key has no ownertrust', async () => {
      for (const fpr of [fprAlice, fprAlice.toLowerCase()]) {
        await expect(
          verify(pgpAlice, { mode: 'openpgp', fingerprints: [fpr], publicKeys: exportKeys(fprAlice) }),
        ).resolves.toEqual({
          method: 'openpgp',
          signer: 'Alice <alice@example.org>',
          keyFingerprint: fprAlice,
          verified: true,
        });
      }
    });

    it('accepts a signing subkey through its primary fingerprint or its own', async () => {
      const publicKeys = exportKeys(fprSubPrimary);
      for (const fpr of [fprSubPrimary, fprSubSigning]) {
        await expect(verify(pgpSub, { mode: 'openpgp', fingerprints: [fpr], publicKeys })).resolves.toMatchObject({
          method: 'openpgp',
          keyFingerprint: fprSubSigning,
        });
      }
    });

    it('fails with SIGNATURE_UNTRUSTED, naming the key, when the imported key is not allow-listed', async () => {
      // gpg says "Good signature" and git verify-commit exits 0 here: the exit code alone is not trust.
      const policy: SignaturePolicy = {
        mode: 'openpgp',
        fingerprints: [fprUnknown],
        publicKeys: exportKeys(fprAlice, fprUnknown),
      };
      const err = await rejection(verify(pgpAlice, policy), 'SIGNATURE_UNTRUSTED');
      expect(err.message).toContain(fprAlice);
      expect(err.details).toMatchObject({ status: 'U', keyFingerprint: fprAlice });
    });

    it('fails with SIGNATURE_UNTRUSTED when the signing key is not provided', async () => {
      const policy: SignaturePolicy = {
        mode: 'openpgp',
        fingerprints: [fprAlice, fprUnknown],
        publicKeys: exportKeys(fprAlice),
      };
      const err = await rejection(verify(pgpUnknown, policy), 'SIGNATURE_UNTRUSTED');
      expect(err.details).toMatchObject({ status: 'E' });
      expect(err.message).toMatch(/not among the policy's publicKeys/);
    });

    it('fails with SIGNATURE_MISSING for an unsigned commit', async () => {
      const policy: SignaturePolicy = { mode: 'openpgp', fingerprints: [fprAlice], publicKeys: exportKeys(fprAlice) };
      await rejection(verify(unsigned, policy), 'SIGNATURE_MISSING');
    });

    it('fails with SIGNATURE_INVALID for a revoked key, even when allow-listed', async () => {
      const policy: SignaturePolicy = {
        mode: 'openpgp',
        fingerprints: [fprRevoked],
        publicKeys: exportKeys(fprRevoked),
      };
      const err = await rejection(verify(pgpRevoked, policy), 'SIGNATURE_INVALID');
      expect(err.message).toMatch(/revoked/);
    });

    it('refuses an SSH-signed commit as untrusted', async () => {
      const policy: SignaturePolicy = { mode: 'openpgp', fingerprints: [fprAlice], publicKeys: exportKeys(fprAlice) };
      await rejection(verify(sshGood, policy), 'SIGNATURE_UNTRUSTED');
    });

    it('fails with SIGNATURE_POLICY_INVALID when gpg cannot import the keys', async () => {
      const garbage = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nbm90IGEga2V5\n-----END PGP PUBLIC KEY BLOCK-----\n';
      await rejection(
        verify(pgpAlice, { mode: 'openpgp', fingerprints: [fprAlice], publicKeys: garbage }),
        'SIGNATURE_POLICY_INVALID',
      );
    });
  });

  it('ignores a replace ref that swaps in a signed commit', async () => {
    const clone = join(root, 'replaced');
    run('git', ['clone', '-q', '--no-local', repo, clone]);
    run('git', ['replace', unsigned, sshGood], { cwd: clone });
    expect(run('git', ['log', '-1', '--format=%s', unsigned], { cwd: clone })).toBe('by alice');
    await rejection(verify(unsigned, allowAlice, clone), 'SIGNATURE_MISSING');
  });

  it('validates the policy, the commit and the checkout first', async () => {
    const missingDir = join(root, 'missing');
    await rejection(
      verifyCommitSignature({
        dir: missingDir,
        commit: sshGood,
        policy: { mode: 'ssh', allowedSigners: `alice@example.org command="id" ${alice.publicKey}` },
      }),
      'SIGNATURE_POLICY_INVALID',
    );
    await rejection(
      verifyCommitSignature({
        dir: missingDir,
        commit: sshGood,
        policy: { mode: 'openpgp', fingerprints: ['ABCD'], publicKeys: '' },
      }),
      'SIGNATURE_POLICY_INVALID',
    );
    await rejection(verifyCommitSignature({ dir: repo, commit: 'HEAD', policy: allowAlice }), 'INVALID_COMMIT');
    await rejection(
      verifyCommitSignature({ dir: missingDir, commit: sshGood, policy: allowAlice }),
      'INVALID_CHECKOUT',
    );
    await rejection(
      verifyCommitSignature({ dir: repo, commit: 'b'.repeat(40), policy: allowAlice }),
      'INVALID_CHECKOUT',
    );
  });
});
