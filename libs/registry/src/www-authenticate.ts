/** One challenge of a `WWW-Authenticate` header (RFC 9110 §11.6.1). */
export interface AuthChallenge {
  /** Lowercased scheme, e.g. `basic` or `bearer`. */
  scheme: string;
  /** Parameters with lowercased names and unquoted values (`realm`, `service`, `scope`, …). */
  params: Record<string, string>;
  /** A token68 credential instead of parameters (rare for registries). */
  token68?: string;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;
const TOKEN68 = /^[A-Za-z0-9._~+/-]+=*/;

/**
 * Parses a `WWW-Authenticate` value, which may hold several challenges (and Node joins repeated
 * headers with ", "): `Bearer realm="https://auth",service="reg",scope="repository:a:pull", Basic
 * realm="x"`. Quoted strings may contain commas and backslash escapes. Malformed input yields the
 * challenges parsed before the problem.
 */
export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  let rest = header;
  const skip = (pattern: RegExp): void => {
    rest = rest.replace(pattern, '');
  };
  skip(/^[\s,]+/);
  while (rest !== '') {
    const scheme = TOKEN.exec(rest)?.[0];
    if (scheme === undefined) break;
    rest = rest.slice(scheme.length);
    const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    if (!/^[ \t]/.test(rest)) {
      skip(/^[\s,]+/);
      continue;
    }
    skip(/^[ \t]+/);
    // token68 form: `Scheme abc==` followed by end or a comma.
    const t68 = TOKEN68.exec(rest)?.[0];
    if (t68 !== undefined && /^[ \t]*(?:,|$)/.test(rest.slice(t68.length)) && !/^[^=]*=[^=]/.test(t68)) {
      challenge.token68 = t68;
      rest = rest.slice(t68.length);
      skip(/^[\s,]+/);
      continue;
    }
    // auth-param list: name = (token | quoted-string), separated by commas; a bare token followed by
    // whitespace and another token (no '=') starts the next challenge.
    for (;;) {
      const name = TOKEN.exec(rest)?.[0];
      if (name === undefined) return challenges;
      const afterName = rest.slice(name.length);
      const eq = /^[ \t]*=[ \t]*/.exec(afterName);
      if (eq === null) break; // next challenge
      rest = afterName.slice(eq[0].length);
      let value: string;
      if (rest.startsWith('"')) {
        const quoted = readQuoted(rest);
        if (quoted === undefined) return challenges;
        value = quoted.value;
        rest = rest.slice(quoted.length);
      } else {
        const token = TOKEN.exec(rest)?.[0];
        if (token === undefined) return challenges;
        value = token;
        rest = rest.slice(token.length);
      }
      challenge.params[name.toLowerCase()] = value;
      skip(/^[ \t]*/);
      if (rest === '') return challenges;
      if (!rest.startsWith(',')) return challenges;
      skip(/^[\s,]+/);
      if (rest === '') return challenges;
    }
  }
  return challenges;
}

function readQuoted(text: string): { value: string; length: number } | undefined {
  let value = '';
  for (let i = 1; i < text.length; i += 1) {
    const char = text[i];
    if (char === '\\') {
      if (i + 1 >= text.length) return undefined;
      value += text[i + 1];
      i += 1;
    } else if (char === '"') {
      return { value, length: i + 1 };
    } else {
      value += char;
    }
  }
  return undefined;
}
