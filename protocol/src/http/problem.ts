import { z } from 'zod';
import { type ErrorCode, ErrorCodes, errorCodeOf } from '../errors';

/**
 * RFC 9457 problem details, the one error body of every Crema HTTP surface (hub, agent touchscreen API,
 * simulator control), extended with the stable catalogue `code` and, for validation, the `issues`.
 */
export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string(),
  instance: z.string().optional(),
  issues: z.array(z.object({ path: z.string(), message: z.string(), code: z.string() })).optional(),
});
export type Problem = z.infer<typeof ProblemSchema>;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The problem for a catalogue code; the status always comes from the catalogue. */
export function problemOf(
  code: ErrorCode,
  detail: string = ErrorCodes[code].message,
  instance?: string,
  extra?: Partial<Problem>,
): Problem {
  return {
    type: `urn:crema:error:${code}`,
    title: ErrorCodes[code].message,
    status: ErrorCodes[code].status,
    detail,
    code,
    ...(instance === undefined ? {} : { instance }),
    ...extra,
  };
}

/**
 * The problem for anything thrown: a coded error keeps its code and message; anything else is INTERNAL with
 * the catalogue's words, so no stack or internal message leaks to a client.
 */
export function problemFromError(err: unknown, instance?: string): Problem {
  const code = errorCodeOf(err);
  if (code === undefined || code === 'INTERNAL') return problemOf('INTERNAL', undefined, instance);
  return problemOf(code, err instanceof Error && err.message ? err.message : undefined, instance);
}

/**
 * `headers` are given here rather than set on the answer afterwards: @hono/node-server's lightweight Response
 * (the global once a server has started) drops headers set after construction when Hono copies the answer.
 */
export function problemResponse(problem: Problem, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(problem), {
    status: problem.status,
    headers: { ...headers, 'content-type': PROBLEM_CONTENT_TYPE },
  });
}
