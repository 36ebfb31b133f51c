import { CodedError } from '@crema/protocol';

/** The hub's one coded error; the HTTP layer maps `code` to a status in one place (ErrorCodes[code].status). */
export class HubError extends CodedError {
  override readonly name = 'HubError';
}
