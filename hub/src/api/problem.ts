import { type ErrorCode, ErrorCodes } from '@crema/protocol';
import { z } from '@hono/zod-openapi';

/** RFC 9457 problem details, extended with the stable Crema error `code` (and validation `issues`). */
export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    instance: z.string().optional(),
    issues: z.array(z.object({ path: z.string(), message: z.string(), code: z.string() })).optional(),
  })
  .openapi('Problem');
export type Problem = z.infer<typeof ProblemSchema>;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problemOf(
  code: ErrorCode,
  detail: string,
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

export function problemResponse(problem: Problem): Response {
  return new Response(JSON.stringify(problem), {
    status: problem.status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE },
  });
}

/** The problem responses every protected route can give, for the OpenAPI document. */
export function problemResponses(...statuses: number[]) {
  const out: Record<
    number,
    { description: string; content: Record<string, { schema: typeof ProblemSchema }> }
  > = {};
  for (const status of statuses) {
    out[status] = { description: 'Problem', content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } } };
  }
  return out;
}
