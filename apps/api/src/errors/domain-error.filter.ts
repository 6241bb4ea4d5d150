import { randomUUID } from 'node:crypto';

import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';

import { isDomainError } from '@secure-build/common';

// The one place where error codes become HTTP statuses.
const STATUS_BY_CODE: Record<string, number> = {
  VALIDATION_FAILED: 400,
  INVALID_CURSOR: 400,
  UNAUTHENTICATED: 401,
  SIGNATURE_MISSING: 401,
  SIGNATURE_MALFORMED: 401,
  SIGNATURE_INVALID: 401,
  TIMESTAMP_OUT_OF_RANGE: 401,
  UNKNOWN_PROVIDER: 404,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_CONFLICT: 422,
  RATE_LIMITED: 429,
  NOT_READY: 503,
};

/** Maps domain errors to `{code, message}` responses; unknown errors become a generic 500 with a correlation id. */
@Catch()
export class DomainErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrors');

  catch(error: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    if (response.headersSent) {
      response.end();
      return;
    }
    if (isDomainError(error)) {
      const status = STATUS_BY_CODE[error.code] ?? 400;
      if (error.code === 'UNAUTHENTICATED') response.setHeader('WWW-Authenticate', 'Bearer');
      const retryAfter = (error.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
      if (status === 429 && retryAfter) response.setHeader('Retry-After', String(retryAfter));
      const field = (error.details as { field?: string } | undefined)?.field;
      response.status(status).json({ code: error.code, message: error.message, ...(field ? { field } : {}) });
      return;
    }
    if (error instanceof HttpException) {
      const status = error.getStatus();
      const body = error.getResponse();
      const message =
        typeof body === 'string' ? body : ((body as { message?: string | string[] }).message ?? error.message);
      response
        .status(status)
        .json({ code: httpCode(status), message: Array.isArray(message) ? message.join('; ') : message });
      return;
    }
    const bodyParser = error as { type?: string; status?: number; message?: string };
    if (typeof bodyParser?.status === 'number' && bodyParser.status >= 400 && bodyParser.status < 500) {
      response
        .status(bodyParser.status)
        .json({ code: httpCode(bodyParser.status), message: bodyParserMessage(bodyParser) });
      return;
    }
    const correlationId = randomUUID();
    this.logger.error({
      message: 'unhandled error',
      correlationId,
      error: error instanceof Error ? error.stack : String(error),
    });
    response.setHeader('X-Correlation-Id', correlationId);
    response.status(500).json({ code: 'INTERNAL', message: `internal error (correlation id ${correlationId})` });
  }
}

function httpCode(status: number): string {
  return (
    {
      400: 'BAD_REQUEST',
      404: 'NOT_FOUND',
      405: 'METHOD_NOT_ALLOWED',
      413: 'PAYLOAD_TOO_LARGE',
      415: 'UNSUPPORTED_MEDIA_TYPE',
    }[status] ?? `HTTP_${status}`
  );
}

function bodyParserMessage(error: { type?: string; message?: string }): string {
  if (error.type === 'entity.parse.failed') return `body is not valid JSON: ${error.message ?? ''}`.trim();
  if (error.type === 'entity.too.large') return 'body is larger than the 1 MB limit';
  return error.message ?? 'bad request';
}
