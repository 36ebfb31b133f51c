import { CodedError, type ErrorCode, errorCodeOf } from '@crema/protocol';

/** The agent's one coded error; codes come from the protocol catalogue. */
export class AgentError extends CodedError {
  override readonly name = 'AgentError';

  /** Wraps anything thrown into an AgentError, keeping the original as `cause`. */
  static from(err: unknown, fallback: ErrorCode = 'INTERNAL'): AgentError {
    if (err instanceof AgentError) return err;
    const code = errorCodeOf(err);
    if (code !== undefined) return new AgentError(code, (err as Error).message, { cause: err });
    return new AgentError(fallback, err instanceof Error ? err.message : String(err), { cause: err });
  }
}
