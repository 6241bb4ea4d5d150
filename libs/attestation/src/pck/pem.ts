const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----/g;

/** Result of splitting a PEM bundle: the certificate blocks and the index of the first stray character. */
export interface PemSplit {
  readonly certificates: string[];
  readonly strayIndex?: number;
}

/** Splits concatenated PEM certificates; anything but whitespace between blocks is reported as stray. */
export function splitPemCertificates(text: string): PemSplit {
  const certificates: string[] = [];
  let cursor = 0;
  let strayIndex: number | undefined;
  const noteStray = (from: number, to: number): void => {
    const gap = text.slice(from, to);
    const index = gap.search(/\S/);
    if (index >= 0 && strayIndex === undefined) strayIndex = from + index;
  };
  for (const match of text.matchAll(PEM_BLOCK)) {
    noteStray(cursor, match.index);
    certificates.push(match[0]);
    cursor = match.index + match[0].length;
  }
  noteStray(cursor, text.length);
  return { certificates, strayIndex };
}

/** Concatenates PEM blocks with newline separators (the layout Intel serves). */
export function joinPem(certificates: readonly string[]): string {
  return certificates.map((pem) => `${pem.trim()}\n`).join('');
}
