import type { MiddlewareHandler } from 'hono';
import { AgentError } from '../../errors';

const READS = new Set(['GET', 'HEAD']);

/**
 * Every request that changes something must say `Content-Type: application/json`, body or not. A browser only
 * sends that cross-site after a CORS preflight, which this API never grants, so a page in the kiosk browser
 * cannot fire a "simple" form or `text/plain` request at it.
 */
export function jsonOnly(): MiddlewareHandler {
  return async function requireJson(c, next) {
    if (!READS.has(c.req.method)) {
      const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
      if (type !== 'application/json') {
        throw new AgentError(
          'UNSUPPORTED_MEDIA_TYPE',
          `${c.req.method} needs Content-Type application/json (got ${type ? type.slice(0, 64) : 'none'})`,
        );
      }
    }
    await next();
  };
}
