import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { replaceControlCharacters } from '@secure-build/common';

import {
  checkoutEnv,
  checkTimeout,
  gitIn,
  openCheckout,
  requireCommitPresent,
  type CheckoutRepo,
} from '../checkout-git';
import { parseCommitSha } from '../commit-sha';
import { hardenedGitEnv } from '../git-env';
import { GIT_PATH_ENV, runProcess, summarizeStderr } from '../git-runner';
import { SourceError } from '../source.error';
import { parseSignaturePolicy, type CommitSignatureResult, type SignaturePolicy } from './signature-policy';

/** Options for {@link verifyCommitSignature}. */
export interface VerifyCommitSignatureOptions {
  /** Working tree of a checkout made by `fetchPinnedCommit`. */
  dir: string;
  /** The commit to verify (full SHA); must be present in the checkout. */
  commit: string;
  /** Which signers are trusted. */
  policy: SignaturePolicy;
  /** Timeout for each git or gpg command, in milliseconds (default 60 000). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const SSH_FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
const OPENPGP_FINGERPRINT = /^[0-9A-F]{40}$/;
/** gpg.conf of the throw-away keyring: never start an agent, never fetch keys from the network. */
const GPG_CONF = 'no-autostart\nno-auto-key-retrieve\n';

/** What git reports about a commit's signature (`git log -1 --format=%G?…`). */
interface SignatureStatus {
  /** %G?: G good, B bad, U good with unknown validity, X/Y expired signature/key, R revoked key, E cannot check, N none. */
  code: string;
  signer: string;
  fingerprint: string;
  primaryFingerprint: string;
  keyId: string;
  /** Exit code of `git verify-commit`. */
  verifyExit: number;
  /** The commit object carries a gpgsig header, whether or not git could check it. */
  hasSignature: boolean;
}

/**
 * Verifies the signature of a pinned commit against a policy (git-and-webhooks.md §3). Decides on
 * git's exit code and `%G?` status, never on message text:
 * - ssh: accepted only when `git verify-commit` exits 0 and `%G?` is `G` (a principal of the given
 *   allowed_signers matched). Expiry (`valid-before`/`valid-after`) is judged by ssh-keygen at the
 *   commit's committer time, which the signer chooses; an entry outside its validity yields `U`
 *   and so SIGNATURE_UNTRUSTED.
 * - openpgp: a throw-away GNUPGHOME holding only the policy's keys; `%G?` `G` or `U` (imported keys
 *   have no ownertrust) is accepted only when the signing-key (`%GF`) or primary-key (`%GP`)
 *   fingerprint is allow-listed and `verify-commit` exits 0. An exit code of 0 alone is not trust.
 *
 * git runs with the hardened environment, the checkout's GIT_DIR and pinned `-c` settings, so the
 * repository cannot choose the verifier program or its trust settings. Fails with
 * SIGNATURE_MISSING, SIGNATURE_UNTRUSTED, SIGNATURE_INVALID or SIGNATURE_POLICY_INVALID.
 */
export async function verifyCommitSignature(opts: VerifyCommitSignatureOptions): Promise<CommitSignatureResult> {
  const policy = parseSignaturePolicy(opts.policy);
  const commit = parseCommitSha(opts.commit);
  const timeoutMs = checkTimeout(opts.timeoutMs, DEFAULT_TIMEOUT_MS);
  if (policy.mode === 'none') return { method: 'none' };
  const repo = await openCheckout(opts.dir);

  const work = await mkdtemp(join(tmpdir(), 'secure-build-verify-'));
  try {
    const home = join(work, 'home');
    const gnupgHome = join(work, 'gnupg');
    const signersFile = join(work, 'allowed_signers');
    await mkdir(home, { mode: 0o700 });
    await mkdir(gnupgHome, { mode: 0o700 });
    await writeFile(join(gnupgHome, 'gpg.conf'), GPG_CONF, { mode: 0o600 });
    // In openpgp mode the file is empty, so an SSH-signed commit reads as untrusted, not as unsigned.
    await writeFile(signersFile, policy.mode === 'ssh' ? policy.allowedSigners : '', { mode: 0o600 });

    const env = { ...checkoutEnv(hardenedGitEnv(home, false), repo), GNUPGHOME: gnupgHome };
    if (policy.mode === 'openpgp') await importPublicKeys(home, gnupgHome, timeoutMs, policy.publicKeys);
    await requireCommitPresent(repo, env, timeoutMs, commit);
    const status = await readSignatureStatus(repo, env, timeoutMs, commit, signersFile);
    return policy.mode === 'ssh' ? judgeSsh(commit, status) : judgeOpenPgp(commit, status, policy.fingerprints);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Imports the policy's keys into the throw-away keyring and checks that at least one key arrived. */
async function importPublicKeys(home: string, gnupgHome: string, timeoutMs: number, publicKeys: string): Promise<void> {
  const gpgEnv = { PATH: GIT_PATH_ENV, HOME: home, LC_ALL: 'C', GNUPGHOME: gnupgHome };
  const base = ['--homedir', gnupgHome, '--batch', '--no-tty', '--no-autostart', '--no-auto-key-retrieve'];
  const imported = await runProcess('gpg', [...base, '--import'], {
    env: gpgEnv,
    timeoutMs,
    input: publicKeys,
    label: 'gpg --import',
  });
  if (imported.code !== 0) {
    throw new SourceError(
      'SIGNATURE_POLICY_INVALID',
      `publicKeys could not be imported: ${summarizeStderr(imported.stderr)}`,
    );
  }
  const listed = await runProcess('gpg', [...base, '--with-colons', '--fixed-list-mode', '--list-keys'], {
    env: gpgEnv,
    timeoutMs,
    label: 'gpg --list-keys',
  });
  const hasKey = listed.stdout
    .toString('utf8')
    .split('\n')
    .some((line) => line.startsWith('pub:'));
  if (listed.code !== 0 || !hasKey) {
    throw new SourceError('SIGNATURE_POLICY_INVALID', 'publicKeys contains no usable public key');
  }
}

async function readSignatureStatus(
  repo: CheckoutRepo,
  env: Record<string, string>,
  timeoutMs: number,
  commit: string,
  signersFile: string,
): Promise<SignatureStatus> {
  const config = ['-c', `gpg.ssh.allowedSignersFile=${signersFile}`];
  const verified = await gitIn(repo, env, timeoutMs, [...config, 'verify-commit', '--end-of-options', commit]);
  const log = await gitIn(repo, env, timeoutMs, [
    ...config,
    'log',
    '-1',
    '--no-walk',
    '--format=%G?%x00%GS%x00%GF%x00%GP%x00%GK',
    commit,
    '--',
  ]);
  if (log.code !== 0) throw new SourceError('GIT_FAILED', `git log failed: ${summarizeStderr(log.stderr)}`);
  const fields = log.stdout.toString('utf8').replace(/\n$/, '').split('\0');
  if (fields.length !== 5 || !/^[GBUXYREN]$/.test(fields[0])) {
    throw new SourceError('GIT_FAILED', `unexpected signature status from git log for ${commit}`);
  }
  const raw = await gitIn(repo, env, timeoutMs, ['cat-file', 'commit', commit]);
  if (raw.code !== 0) throw new SourceError('GIT_FAILED', `git cat-file failed: ${summarizeStderr(raw.stderr)}`);
  return {
    code: fields[0],
    signer: replaceControlCharacters(fields[1], '?').trim(),
    fingerprint: fields[2].trim(),
    primaryFingerprint: fields[3].trim(),
    keyId: replaceControlCharacters(fields[4], '?').trim(),
    verifyExit: verified.code,
    hasSignature: hasSignatureHeader(raw.stdout.toString('latin1')),
  };
}

/** True when the commit's header block has a `gpgsig` (SHA-1) or `gpgsig-sha256` header. */
function hasSignatureHeader(commitObject: string): boolean {
  const end = commitObject.indexOf('\n\n');
  const headers = end < 0 ? commitObject : commitObject.slice(0, end);
  return headers.split('\n').some((line) => line.startsWith('gpgsig ') || line.startsWith('gpgsig-sha256 '));
}

function judgeSsh(commit: string, status: SignatureStatus): CommitSignatureResult {
  const { code, signer, fingerprint } = status;
  switch (code) {
    case 'N':
      throw missingOrUnreadable(commit, status);
    case 'G':
      if (status.verifyExit !== 0 || !SSH_FINGERPRINT.test(fingerprint) || signer === '') {
        throw invalid(
          commit,
          `git reported a good SSH signature but verify-commit exited ${status.verifyExit}`,
          status,
        );
      }
      return { method: 'ssh', signer, keyFingerprint: fingerprint, verified: true };
    case 'U':
    case 'E':
      throw untrusted(
        commit,
        SSH_FINGERPRINT.test(fingerprint)
          ? `commit ${commit} is signed by SSH key ${fingerprint}, which matches no principal of allowedSigners ` +
              '(or the entry is not valid at the commit time)'
          : `commit ${commit} has a signature that cannot be checked against allowedSigners (not an SSH signature?)`,
        status,
      );
    default:
      throw invalid(commit, describeFailure(code), status);
  }
}

function judgeOpenPgp(commit: string, status: SignatureStatus, allowed: ReadonlySet<string>): CommitSignatureResult {
  const { code } = status;
  const fingerprint = status.fingerprint.toUpperCase();
  const primary = status.primaryFingerprint.toUpperCase();
  switch (code) {
    case 'N':
      throw missingOrUnreadable(commit, status);
    case 'E':
      throw untrusted(
        commit,
        `commit ${commit} is signed by key ${fingerprint || status.keyId || '(unknown)'}, which is not among the policy's publicKeys`,
        status,
      );
    case 'G':
    case 'U': {
      if (!OPENPGP_FINGERPRINT.test(fingerprint)) {
        throw untrusted(commit, `commit ${commit} is not signed with an OpenPGP key`, status);
      }
      if (!allowed.has(fingerprint) && !(OPENPGP_FINGERPRINT.test(primary) && allowed.has(primary))) {
        const primaryNote = primary !== '' && primary !== fingerprint ? ` (primary key ${primary})` : '';
        throw untrusted(
          commit,
          `commit ${commit} is signed by OpenPGP key ${fingerprint}${primaryNote}, which is not an allowed fingerprint`,
          status,
        );
      }
      if (status.verifyExit !== 0) {
        throw invalid(commit, `git verify-commit exited ${status.verifyExit} for an allowed key`, status);
      }
      return { method: 'openpgp', signer: status.signer, keyFingerprint: fingerprint, verified: true };
    }
    default:
      throw invalid(commit, describeFailure(code), status);
  }
}

function describeFailure(code: string): string {
  switch (code) {
    case 'B':
      return 'bad signature (the commit does not match it)';
    case 'X':
      return 'the signature has expired';
    case 'Y':
      return 'the signing key has expired';
    case 'R':
      return 'the signing key has been revoked';
    default:
      return `unexpected signature status ${code}`;
  }
}

function missingOrUnreadable(commit: string, status: SignatureStatus): SourceError {
  if (status.hasSignature) {
    return invalid(commit, 'it carries a signature git cannot interpret', status);
  }
  return new SourceError('SIGNATURE_MISSING', `commit ${commit} is not signed`, {
    details: { commit, status: status.code },
  });
}

function untrusted(commit: string, message: string, status: SignatureStatus): SourceError {
  return new SourceError('SIGNATURE_UNTRUSTED', message, { details: details(commit, status) });
}

function invalid(commit: string, reason: string, status: SignatureStatus): SourceError {
  return new SourceError('SIGNATURE_INVALID', `signature of commit ${commit} is invalid: ${reason}`, {
    details: { ...details(commit, status), reason },
  });
}

function details(commit: string, status: SignatureStatus): Record<string, unknown> {
  return {
    commit,
    status: status.code,
    ...(status.fingerprint === '' ? {} : { keyFingerprint: status.fingerprint }),
    ...(status.primaryFingerprint === '' ? {} : { primaryKeyFingerprint: status.primaryFingerprint }),
  };
}
