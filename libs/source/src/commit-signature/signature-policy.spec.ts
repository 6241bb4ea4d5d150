import { describe, expect, it } from 'vitest';

import { SourceError } from '../source.error';
import { formatAllowedSigners, parseAllowedSigners } from './allowed-signers';
import { parseSignaturePolicy } from './signature-policy';

const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILiDI2vlAGppeuu+SwLuHlG9ITlx1CmQ5Xa3ftQ0RYsu';
const ECDSA =
  'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBGPwfn2B+CWpze+Z0c+vuWIwEeHjYw1m243e9ld2Za8ydWhppj8j9Pi14CVYKiQqGOJn9ydXNlN8q9FA+dvbinY=';
const FPR = '2196F227D06BC11B202F6CA4003A684BDB840766';
const KEYS = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ\n-----END PGP PUBLIC KEY BLOCK-----\n';

function policyError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).code).toBe('SIGNATURE_POLICY_INVALID');
    return (err as SourceError).message;
  }
  throw new Error('expected SIGNATURE_POLICY_INVALID');
}

describe('parseAllowedSigners', () => {
  it('accepts principals, options, allowed key types and comments, and re-serializes canonically', () => {
    const content = [
      '# team signers',
      '',
      `alice@example.org ${ED25519} alice laptop`,
      `  bob@example.org,*@ci.example.org\tNamespaces="git",valid-after="20240101",valid-before="20300101120000Z" ${ECDSA}`,
      `ca@example.org cert-authority ${ED25519}`,
      '',
    ].join('\r\n');
    const entries = parseAllowedSigners(content);
    expect(entries).toHaveLength(3);
    expect(entries[1]).toMatchObject({
      principals: 'bob@example.org,*@ci.example.org',
      options: 'namespaces="git",valid-after="20240101",valid-before="20300101120000Z"',
      keyType: 'ecdsa-sha2-nistp256',
    });
    expect(formatAllowedSigners(entries)).toBe(
      `alice@example.org ${ED25519}\n` +
        `bob@example.org,*@ci.example.org namespaces="git",valid-after="20240101",valid-before="20300101120000Z" ${ECDSA}\n` +
        `ca@example.org cert-authority ${ED25519}\n`,
    );
  });

  it.each([
    ['an empty file', ''],
    ['only comments', '# nobody\n\n'],
    ['a command= option', `a@e command="touch /tmp/x" ${ED25519}`],
    ['a permitopen option', `a@e permitopen="h:1" ${ED25519}`],
    ['an unquoted option value', `a@e valid-before=20300101 ${ED25519}`],
    ['a malformed time', `a@e valid-before="tomorrow" ${ED25519}`],
    ['a repeated option', `a@e namespaces="git",namespaces="file" ${ED25519}`],
    ['unbalanced quotes', `a@e namespaces="git ${ED25519}`],
    ['cert-authority with a value', `a@e cert-authority="x" ${ED25519}`],
    ['an RSA key', 'a@e ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ=='],
    ['a DSA key', 'a@e ssh-dss AAAAB3NzaC1kc3MAAACBAP=='],
    ['a missing key', 'a@e ssh-ed25519'],
    ['a missing key type', 'a@e'],
    ['invalid base64', 'a@e ssh-ed25519 AAAA$$$$'],
    ['a blob of another key type', `a@e ecdsa-sha2-nistp256 ${ED25519.split(' ')[1]}`],
    ['a quoted principal', `"a b@e" ${ED25519}`],
    ['a principal with odd characters', `a=b@e ${ED25519}`],
    ['a NUL byte', `a@e ${ED25519}\0`],
    ['an escape sequence', `a@e ${ED25519} \x1b[31m`],
    ['a bare carriage return', `a@e ${ED25519}\rb@e ${ED25519}`],
  ])('refuses %s', (_name, content) => {
    policyError(() => parseAllowedSigners(content));
  });

  it('names the offending line', () => {
    expect(policyError(() => parseAllowedSigners(`a@e ${ED25519}\nb@e command="x" ${ED25519}`))).toMatch(
      /line 2: option "command" is not allowed/,
    );
  });
});

describe('parseSignaturePolicy', () => {
  it('normalizes valid policies', () => {
    expect(parseSignaturePolicy({ mode: 'none' })).toEqual({ mode: 'none' });
    expect(parseSignaturePolicy({ mode: 'ssh', allowedSigners: `# x\na@e ${ED25519} comment` })).toEqual({
      mode: 'ssh',
      allowedSigners: `a@e ${ED25519}\n`,
    });
    const pgp = parseSignaturePolicy({ mode: 'openpgp', fingerprints: [FPR.toLowerCase()], publicKeys: KEYS });
    expect(pgp).toEqual({ mode: 'openpgp', fingerprints: new Set([FPR]), publicKeys: KEYS });
  });

  it.each([
    ['null', null],
    ['a string', 'ssh'],
    ['an unknown mode', { mode: 'x509' }],
    ['ssh without allowedSigners', { mode: 'ssh' }],
    ['ssh with a non-string allowedSigners', { mode: 'ssh', allowedSigners: ['a'] }],
    ['openpgp without fingerprints', { mode: 'openpgp', publicKeys: KEYS }],
    ['openpgp with an empty fingerprint list', { mode: 'openpgp', fingerprints: [], publicKeys: KEYS }],
    ['a short key id', { mode: 'openpgp', fingerprints: ['003A684BDB840766'], publicKeys: KEYS }],
    [
      'a spaced fingerprint',
      { mode: 'openpgp', fingerprints: ['2196 F227 D06B C11B 202F  6CA4 003A 684B DB84 0766'], publicKeys: KEYS },
    ],
    ['a non-hex fingerprint', { mode: 'openpgp', fingerprints: [`${FPR.slice(0, 39)}G`], publicKeys: KEYS }],
    ['a 0x prefix', { mode: 'openpgp', fingerprints: [`0x${FPR}`], publicKeys: KEYS }],
    ['a non-string fingerprint', { mode: 'openpgp', fingerprints: [42], publicKeys: KEYS }],
    ['openpgp without publicKeys', { mode: 'openpgp', fingerprints: [FPR] }],
    ['blank publicKeys', { mode: 'openpgp', fingerprints: [FPR], publicKeys: '  \n' }],
    ['publicKeys without an armored block', { mode: 'openpgp', fingerprints: [FPR], publicKeys: 'mDMEZ' }],
    [
      'a private key block',
      { mode: 'openpgp', fingerprints: [FPR], publicKeys: `${KEYS}-----BEGIN PGP PRIVATE KEY BLOCK-----\nx\n` },
    ],
    ['a signature block', { mode: 'openpgp', fingerprints: [FPR], publicKeys: '-----BEGIN PGP SIGNATURE-----\nx\n' }],
    ['control characters in publicKeys', { mode: 'openpgp', fingerprints: [FPR], publicKeys: `${KEYS}\0` }],
  ])('refuses %s', (_name, policy) => {
    policyError(() => parseSignaturePolicy(policy));
  });
});
