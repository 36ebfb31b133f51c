import { type ErrorCode, ErrorCodes } from '@crema/protocol';

/** The agent's one coded error; codes come from the protocol catalogue. */
export class AgentError extends Error {
  override readonly name = 'AgentError';
  constructor(
    readonly code: ErrorCode,
    message: string = ErrorCodes[code].message,
    options?: { cause?: unknown; details?: unknown },
  ) {
    super(message, options);
    this.details = options?.details;
  }
  readonly details: unknown;

  /** Wraps anything thrown into an AgentError, keeping the original as `cause`. */
  static from(err: unknown, fallback: ErrorCode = 'INTERNAL'): AgentError {
    if (err instanceof AgentError) return err;
    const code = (err as { code?: unknown })?.code;
    if (typeof code === 'string' && Object.hasOwn(ErrorCodes, code)) {
      return new AgentError(code as ErrorCode, (err as Error).message, { cause: err });
    }
    return new AgentError(fallback, err instanceof Error ? err.message : String(err), { cause: err });
  }
}
