import type { Context } from 'hono';

/**
 * A request header, read from @hono/node-server's `incoming` message when there is one. `c.req.header()` would
 * first build a whole Fetch `Headers` object from every incoming header, on every request; the hot paths need
 * one or two values. Falls back to it elsewhere (tests calling `app.request`). Names are lower case.
 */
export function requestHeader(c: Context, name: Lowercase<string>): string | undefined {
  const incoming = (c.env as { incoming?: { headers?: Record<string, string | string[] | undefined> } })
    ?.incoming;
  if (incoming?.headers === undefined) return c.req.header(name);
  const value = incoming.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
