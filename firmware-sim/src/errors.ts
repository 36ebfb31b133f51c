import { CodedError } from '@crema/protocol';

/** The simulator's one coded error. */
export class SimError extends CodedError {
  override readonly name = 'SimError';
}
