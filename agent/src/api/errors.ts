import { PROBLEM_CONTENT_TYPE, problemOf } from '@crema/protocol';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AgentError } from '../errors';
import type { Logger } from '../log/logger';

/** An RFC 9457 problem+json answer, the same format as the hub's; the status comes from the error catalogue. */
export function errorResponse(c: Context, err: AgentError): Response {
  const problem = problemOf(err.code, err.message, c.req.path);
  // Through the context, so headers other middleware set on it are kept.
  return c.body(JSON.stringify(problem), problem.status as ContentfulStatusCode, {
    'content-type': PROBLEM_CONTENT_TYPE,
  });
}

/** The API's one error handler: coded errors keep their code and status; anything else is INTERNAL. */
export function onApiError(logger: Logger) {
  return function handleError(err: Error, c: Context): Response {
    const coded = AgentError.from(err);
    if (coded.code === 'INTERNAL') logger.error({ err }, 'unhandled API error');
    return errorResponse(c, coded.code === 'INTERNAL' ? new AgentError('INTERNAL') : coded);
  };
}

/** Parses a JSON body; bad JSON is MALFORMED_JSON, never a 500. */
export async function readJson(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new AgentError('MALFORMED_JSON');
  }
}
