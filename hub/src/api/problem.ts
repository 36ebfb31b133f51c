import { PROBLEM_CONTENT_TYPE } from '@crema/protocol';
import { z } from '@hono/zod-openapi';

/**
 * RFC 9457 problem details, extended with the stable Crema error `code` (and validation `issues`). The same shape
 * as the protocol's ProblemSchema, declared with the OpenAPI-aware zod so that the API document names it.
 */
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

// The builder is shared with the agent and simulator HTTP surfaces: one problem format everywhere.
export { PROBLEM_CONTENT_TYPE, problemOf, problemResponse } from '@crema/protocol';

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
