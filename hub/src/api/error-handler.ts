import type { ErrorHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { HubError } from '../errors';
import { problemOf, problemResponse } from './problem';

export function zodIssues(error: ZodError) {
  return error.issues.map((i) => ({ path: i.path.join('.'), message: i.message, code: i.code }));
}

/**
 * The one place an error becomes an HTTP answer: HubError codes map to their catalogue status, validation
 * failures carry their issues, anything unexpected is logged and answered as INTERNAL without internals.
 */
export function errorHandler(logger: Logger): ErrorHandler {
  return function onError(err, c) {
    const path = c.req.path;
    if (err instanceof HubError) {
      const issues = err.details instanceof ZodError ? zodIssues(err.details) : undefined;
      if (err.code === 'INTERNAL') logger.error({ err, path }, 'internal error');
      const retry = (err.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
      return problemResponse(
        problemOf(err.code, err.message, path, issues ? { issues } : undefined),
        typeof retry === 'number' ? { 'retry-after': String(retry) } : undefined,
      );
    }
    if (err instanceof ZodError) {
      return problemResponse(
        problemOf('VALIDATION_FAILED', 'The input does not match its schema', path, {
          issues: zodIssues(err),
        }),
      );
    }
    if (err instanceof HTTPException && err.status === 400) {
      // Hono's validators raise this for a body that is not JSON.
      return problemResponse(problemOf('MALFORMED_JSON', err.message, path));
    }
    if (err instanceof HTTPException && err.status === 413) {
      return problemResponse(problemOf('PAYLOAD_TOO_LARGE', err.message, path));
    }
    if (err instanceof HTTPException && err.status === 415) {
      // The route validator's media-type gate: a body that is not the JSON the route declares.
      const type = c.req.header('content-type') ?? 'none';
      return problemResponse(
        problemOf('UNSUPPORTED_MEDIA_TYPE', `expected application/json, got ${type.slice(0, 100)}`, path),
      );
    }
    if (isConstraintViolation(err)) {
      // A race the up-front checks could not see (two registrations of one id at once): still a conflict.
      return problemResponse(
        problemOf('CONFLICT', 'The resource already exists or changed concurrently', path),
      );
    }
    logger.error({ err, path }, 'unhandled error');
    return problemResponse(problemOf('INTERNAL', 'Internal error', path));
  };
}

/** Unique and foreign-key violations from PostgreSQL (23505, 23503) or SQLite (SQLITE_CONSTRAINT_*). */
function isConstraintViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return (
    code === '23505' ||
    code === '23503' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    code === 'SQLITE_CONSTRAINT_FOREIGNKEY'
  );
}
