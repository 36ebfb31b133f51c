import { ErrorCodes } from '@crema/protocol';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AgentError } from '../errors';
import type { Logger } from '../log/logger';

export type ErrorBody = { error: { code: string; message: string } };

export function errorResponse(c: Context, err: AgentError): Response {
  const status = ErrorCodes[err.code].status as ContentfulStatusCode;
  return c.json<ErrorBody>({ error: { code: err.code, message: err.message } }, status);
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
