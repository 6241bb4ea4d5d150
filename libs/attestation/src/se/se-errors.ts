import { DomainError } from '@secure-build/common';

/**
 * Raised by the IBM SE codecs (exchange file, ARCB, SE header); `structure`, `field` and `offset`
 * locate the offending bytes.
 */
export class SeFormatError extends DomainError<'SE_FORMAT'> {
  constructor(
    readonly structure: string,
    readonly field: string,
    readonly offset: number,
    reason: string,
  ) {
    super('SE_FORMAT', `${structure}: ${field} at offset ${offset} (0x${offset.toString(16)}): ${reason}`, {
      details: { structure, field, offset },
    });
  }
}

/**
 * Raised when an Ultravisor (the simulated one, or openArcb on its behalf) refuses an attestation
 * request; `rc` is the architected UV return code (attestation.md §5.1, e.g. 0x010c: no keyslot decrypts).
 */
export class SeUltravisorError extends DomainError<'SE_ULTRAVISOR'> {
  constructor(
    readonly rc: number,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super('SE_ULTRAVISOR', `Ultravisor rc 0x${rc.toString(16).padStart(4, '0')}: ${reason}`, {
      cause: options?.cause,
      details: { rc },
    });
  }
}

/** Raised when running `pvattest perform` fails (binary or /dev/uv missing, non-zero exit, bad output). */
export class SePvattestError extends DomainError<'SE_PVATTEST'> {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('SE_PVATTEST', message, options);
  }
}
