import { describe, expect, it } from 'vitest';

import { runGit, runProcess, summarizeStderr } from './git-runner';
import { hasControlCharacter, replaceControlCharacters } from '@secure-build/common';

describe('runGit', () => {
  it('runs git with exactly the given environment', async () => {
    const result = await runGit(['--version'], { env: { PATH: '/usr/bin:/bin' }, timeoutMs: 10_000 });
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toMatch(/^git version /);
  });

  it('reports a non-zero exit code and streams stderr lines', async () => {
    const lines: string[] = [];
    const result = await runGit(['no-such-subcommand'], {
      env: { PATH: '/usr/bin:/bin' },
      timeoutMs: 10_000,
      onStderrLine: (l) => lines.push(l),
    });
    expect(result.code).not.toBe(0);
    expect(lines.join('\n')).toMatch(/not a git command/);
  });

  it('fails with GIT_FAILED when git cannot be found', async () => {
    await expect(runGit(['--version'], { env: { PATH: '/nonexistent' }, timeoutMs: 10_000 })).rejects.toMatchObject({
      code: 'GIT_FAILED',
    });
  });
});

describe('runProcess', () => {
  it('feeds stdin and names the program in timeouts', async () => {
    const env = { PATH: '/usr/bin:/bin' };
    const echoed = await runProcess('cat', [], { env, timeoutMs: 10_000, input: 'key material' });
    expect(echoed).toMatchObject({ code: 0, stderr: '' });
    expect(echoed.stdout.toString()).toBe('key material');
    await expect(runProcess('sleep', ['5'], { env, timeoutMs: 100, label: 'gpg --import' })).rejects.toMatchObject({
      code: 'GIT_TIMEOUT',
      message: 'gpg --import timed out after 100 ms',
    });
  });
});

describe('summarizeStderr', () => {
  it('keeps the last lines and drops control characters', () => {
    expect(summarizeStderr('a\nb\r\n\x1b[31mc\x1b[0m\nd\ne\n')).toBe('b | [31mc[0m | d | e');
  });
});

describe('text.util', () => {
  it('detects and replaces C0, DEL and C1 controls', () => {
    expect(hasControlCharacter('ok')).toBe(false);
    for (const c of ['\0', '\n', '\x1f', '\x7f', '\u0085']) expect(hasControlCharacter(`a${c}b`)).toBe(true);
    expect(replaceControlCharacters('a\nb\tc', '?')).toBe('a?b?c');
  });
});
