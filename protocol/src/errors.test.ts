import { describe, expect, it } from 'vitest';
import { CodedError, ErrorCodes, errorCodeOf, ProtocolError } from './errors';

describe('CodedError', () => {
  it('has one constructor shape: code, message, { cause, details }', () => {
    const cause = new Error('root');
    const e = new CodedError('STORAGE_FULL', 'disk', { cause, details: { free: 0 } });
    expect([e.code, e.message, e.cause, e.details, e.status]).toEqual([
      'STORAGE_FULL',
      'disk',
      cause,
      { free: 0 },
      507,
    ]);
    expect(new CodedError('NO_CUP').message).toBe(ErrorCodes.NO_CUP.message);
    expect('cause' in new CodedError('NO_CUP')).toBe(false);
  });

  it('is the base of the protocol error, which keeps its own name', () => {
    const e = new ProtocolError('LINE_TRUNCATED');
    expect(e).toBeInstanceOf(CodedError);
    expect(e.name).toBe('ProtocolError');
    expect(errorCodeOf(e)).toBe('LINE_TRUNCATED');
    expect(errorCodeOf(new Error('x'))).toBeUndefined();
    expect(errorCodeOf(undefined)).toBeUndefined();
  });
});
