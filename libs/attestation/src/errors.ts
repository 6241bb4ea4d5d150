import { DomainError } from '@secure-build/common';

/** Raised by the TDX quote codec; `field` and `offset` locate the offending bytes. */
export class QuoteFormatError extends DomainError<'QUOTE_FORMAT'> {
  constructor(
    readonly field: string,
    readonly offset: number,
    reason: string,
  ) {
    super('QUOTE_FORMAT', `TDX quote: ${field} at offset ${offset}: ${reason}`, { details: { field, offset } });
  }
}

/** Raised when DER (certificate extension, CRL) bytes are malformed. */
export class DerFormatError extends DomainError<'DER_FORMAT'> {
  constructor(message: string, offset: number) {
    super('DER_FORMAT', `DER: ${message} at offset ${offset}`, { details: { offset } });
  }
}

/** Raised when a caller passes invalid arguments (wrong sizes, missing fields) to an attestation API. */
export class AttestationInputError extends DomainError<'ATTESTATION_INPUT'> {
  constructor(message: string, details?: Record<string, unknown>) {
    super('ATTESTATION_INPUT', message, { details });
  }
}
