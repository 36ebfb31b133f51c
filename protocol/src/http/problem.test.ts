import { describe, expect, it } from 'vitest';
import { CodedError, ErrorCodes } from '../errors';
import { PROBLEM_CONTENT_TYPE, ProblemSchema, problemFromError, problemOf, problemResponse } from './problem';

describe('problem+json', () => {
  it('takes title and status from the catalogue', () => {
    expect(problemOf('NO_CUP', 'put a cup in', '/orders')).toEqual({
      type: 'urn:crema:error:NO_CUP',
      title: ErrorCodes.NO_CUP.message,
      status: 409,
      detail: 'put a cup in',
      code: 'NO_CUP',
      instance: '/orders',
    });
    expect(problemOf('SALES_LOCKED').detail).toBe(ErrorCodes.SALES_LOCKED.message);
  });

  it('keeps a coded error and hides anything else as INTERNAL', () => {
    const coded = problemFromError(new CodedError('DOOR_OPEN', 'close the door'));
    expect([coded.status, coded.code, coded.detail]).toEqual([409, 'DOOR_OPEN', 'close the door']);
    const plain = problemFromError(new Error('secret stack detail'));
    expect([plain.status, plain.code, plain.detail]).toEqual([500, 'INTERNAL', ErrorCodes.INTERNAL.message]);
    expect(problemFromError({ code: 'NOT_A_CODE' }).code).toBe('INTERNAL');
  });

  it('answers with the problem content type and status', async () => {
    const res = problemResponse(problemOf('RATE_LIMITED'));
    expect(res.status).toBe(429);
    expect(res.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
    expect(ProblemSchema.parse(await res.json()).code).toBe('RATE_LIMITED');
  });
});
