import { type ErrorCode, ErrorCodes } from '@crema/protocol';

/** The simulator's one coded error. */
export class SimError extends Error {
  override readonly name = 'SimError';
  constructor(
    readonly code: ErrorCode,
    message: string = ErrorCodes[code].message,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
