import { type ErrorCode, ErrorCodes } from '@crema/protocol';

/** The hub's one coded error; the HTTP layer maps `code` to a status in one place (ErrorCodes[code].status). */
export class HubError extends Error {
  override readonly name = 'HubError';
  readonly details: unknown;
  constructor(
    readonly code: ErrorCode,
    message: string = ErrorCodes[code].message,
    options?: { cause?: unknown; details?: unknown },
  ) {
    super(message, options);
    this.details = options?.details;
  }

  get status(): number {
    return ErrorCodes[this.code].status;
  }
}
