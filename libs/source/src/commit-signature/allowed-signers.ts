import { isControlCharacter } from '@secure-build/common';

import { SourceError } from '../source.error';

/** One validated line of an OpenSSH allowed_signers file (ssh-keygen(1), "ALLOWED SIGNERS"). */
export interface AllowedSigner {
  /** Comma-separated principal patterns, e.g. `alice@example.org`. */
  principals: string;
  /** Options in file syntax, e.g. `namespaces="git",valid-before="20300101"`; empty when none. */
  options: string;
  /** Key type, one of {@link ALLOWED_SSH_KEY_TYPES}. */
  keyType: string;
  /** Base64 public key blob; its embedded type equals `keyType`. */
  key: string;
}

/**
 * Key types accepted in allowed_signers. RSA (`ssh-rsa`) and DSA keys are refused on purpose: only
 * modern elliptic-curve and FIDO security-key types are trusted for commit signatures.
 */
export const ALLOWED_SSH_KEY_TYPES: ReadonlySet<string> = new Set([
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
]);

const MAX_FILE_LENGTH = 1024 * 1024;
const MAX_ENTRIES = 10_000;
const MAX_KEY_BASE64 = 8192;
/** Principal patterns: e-mail-like names with ssh's `*`/`?` wildcards and `!` negation; never `#`, quotes or `=`. */
const PRINCIPAL = /^[A-Za-z0-9._@+*?!-]+$/;
const NAMESPACE_LIST = /^[A-Za-z0-9._@-]+(?:,[A-Za-z0-9._@-]+)*$/;
/** ssh-keygen time specifications: YYYYMMDD[HHMM[SS]] with an optional `Z` for UTC. */
const TIMESPEC = /^\d{8}(?:\d{4}(?:\d{2})?)?Z?$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Validates allowed_signers content and returns its entries. Each non-blank line that is not a
 * comment must be `principals [options] keytype base64-key [comment]`, with options limited to
 * `namespaces="…"`, `valid-after="…"`, `valid-before="…"` and `cert-authority`; anything else
 * (unknown options such as `command=`, quotes in principals, control characters, RSA/DSA keys, a
 * blob whose embedded type differs from the stated type) makes the whole policy invalid.
 */
export function parseAllowedSigners(content: string): AllowedSigner[] {
  if (typeof content !== 'string') throw invalid('allowedSigners must be the text of an allowed_signers file');
  if (content.length > MAX_FILE_LENGTH) throw invalid(`allowedSigners is longer than ${MAX_FILE_LENGTH} characters`);
  const entries: AllowedSigner[] = [];
  const lines = content.replace(/\r\n/g, '\n').split('\n');
  lines.forEach((raw, index) => {
    const where = `allowedSigners line ${index + 1}`;
    for (const char of raw) {
      if (char !== '\t' && isControlCharacter(char)) throw invalid(`${where} contains a control character`);
    }
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    entries.push(parseLine(line, where));
    if (entries.length > MAX_ENTRIES) throw invalid(`allowedSigners has more than ${MAX_ENTRIES} entries`);
  });
  if (entries.length === 0) throw invalid('allowedSigners contains no signer');
  return entries;
}

/** Serializes validated entries in canonical form (no comments), one per line. */
export function formatAllowedSigners(entries: readonly AllowedSigner[]): string {
  return entries
    .map((e) => [e.principals, e.options, e.keyType, e.key].filter((field) => field !== '').join(' '))
    .map((line) => `${line}\n`)
    .join('');
}

function parseLine(line: string, where: string): AllowedSigner {
  const fields = line.split(/[ \t]+/);
  const principals = fields[0];
  if (principals.includes('"')) throw invalid(`${where}: quoted principals are not supported`);
  if (!principals.split(',').every((p) => PRINCIPAL.test(p))) {
    throw invalid(`${where}: principals must be comma-separated names of letters, digits and . _ @ + - * ? !`);
  }
  let next = 1;
  let options = '';
  if (fields[next] !== undefined && !ALLOWED_SSH_KEY_TYPES.has(fields[next])) {
    if (/^(?:ssh-|ecdsa-|sk-)/.test(fields[next]) && !fields[next].includes('=')) {
      throw invalid(`${where}: key type ${JSON.stringify(fields[next])} is not allowed`);
    }
    options = parseOptions(fields[next], where);
    next += 1;
  }
  const keyType = fields[next];
  const key = fields[next + 1];
  if (keyType === undefined || key === undefined)
    throw invalid(`${where}: expected "principals [options] keytype key"`);
  if (!ALLOWED_SSH_KEY_TYPES.has(keyType))
    throw invalid(`${where}: key type ${JSON.stringify(keyType)} is not allowed`);
  if (key.length > MAX_KEY_BASE64 || !BASE64.test(key) || key.length % 4 !== 0) {
    throw invalid(`${where}: the public key is not valid base64`);
  }
  const embedded = embeddedKeyType(Buffer.from(key, 'base64'));
  if (embedded !== keyType) throw invalid(`${where}: the key blob is not a ${keyType} key`);
  return { principals, options, keyType, key };
}

/** Validates a comma-separated option list and returns it in canonical order and syntax. */
function parseOptions(field: string, where: string): string {
  const seen = new Map<string, string | undefined>();
  for (const option of splitOptions(field, where)) {
    const eq = option.indexOf('=');
    const name = (eq < 0 ? option : option.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? undefined : unquote(option.slice(eq + 1), name, where);
    if (seen.has(name)) throw invalid(`${where}: option ${name} is given twice`);
    switch (name) {
      case 'cert-authority':
        if (value !== undefined) throw invalid(`${where}: cert-authority takes no value`);
        break;
      case 'namespaces':
        if (value === undefined || !NAMESPACE_LIST.test(value)) {
          throw invalid(`${where}: namespaces must be a quoted, comma-separated list of names`);
        }
        break;
      case 'valid-after':
      case 'valid-before':
        if (value === undefined || !TIMESPEC.test(value)) {
          throw invalid(`${where}: ${name} must be a quoted time YYYYMMDD[HHMM[SS]][Z]`);
        }
        break;
      default:
        throw invalid(`${where}: option ${JSON.stringify(name.slice(0, 40))} is not allowed in allowed_signers`);
    }
    seen.set(name, value);
  }
  return [...seen].map(([name, value]) => (value === undefined ? name : `${name}="${value}"`)).join(',');
}

/** Splits on commas outside double quotes; refuses unbalanced quotes. */
function splitOptions(field: string, where: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const char of field) {
    if (char === '"') quoted = !quoted;
    if (char === ',' && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  if (quoted) throw invalid(`${where}: unbalanced quotes in options`);
  parts.push(current);
  if (parts.some((p) => p === '')) throw invalid(`${where}: empty option`);
  return parts;
}

function unquote(value: string, name: string, where: string): string {
  if (value.length < 2 || !value.startsWith('"') || !value.endsWith('"') || value.slice(1, -1).includes('"')) {
    throw invalid(`${where}: the value of ${name} must be in double quotes`);
  }
  return value.slice(1, -1);
}

/** The key type string at the start of an SSH public key blob (uint32 length + name), if well formed. */
function embeddedKeyType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || blob.length < 4 + length) return undefined;
  return blob.subarray(4, 4 + length).toString('latin1');
}

function invalid(message: string): SourceError {
  return new SourceError('SIGNATURE_POLICY_INVALID', message);
}
