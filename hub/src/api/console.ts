import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { HubApp } from './env';

/** Where `pnpm --filter @crema/hub console:build` (run by scripts/setup.sh) writes the bundled console. */
const DIST = new URL('../../console/dist/', import.meta.url);

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** The console loads nothing from elsewhere (offline, and no third party can script it). */
const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Crema console</title></head>
<body><main><h1>The console is not built</h1><p>Run <code>sh scripts/setup.sh</code> in the repository.</p></main></body></html>`;

/**
 * Serves the admin console (a single-page app bundled by hub/console/build) at /console/, same origin as the
 * API. Files are read on first request and kept; `/` leads to the console.
 */
export function registerConsole(app: HubApp): void {
  const cache = new Map<string, Uint8Array<ArrayBuffer>>();
  const read = (file: string): Uint8Array<ArrayBuffer> | undefined => {
    const hit = cache.get(file);
    if (hit) return hit;
    const url = new URL(file, DIST);
    if (!url.pathname.startsWith(DIST.pathname) || !existsSync(url)) return undefined;
    const body = new Uint8Array(readFileSync(url));
    cache.set(file, body);
    return body;
  };
  const security = { 'content-security-policy': CONSOLE_CSP, 'x-content-type-options': 'nosniff' };

  app.get('/', (c) => c.redirect('/console/', 302));
  app.get('/console', (c) => c.redirect('/console/', 301));
  app.get('/console/', (c) => {
    const page = read('index.html');
    if (!page) return c.html(NOT_BUILT, 503, security);
    return c.body(page, 200, {
      ...security,
      'content-type': TYPES['.html'] ?? '',
      'cache-control': 'no-cache',
    });
  });
  app.get('/console/assets/:file', (c) => {
    const file = c.req.param('file');
    if (!/^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/.test(file)) return c.notFound();
    const body = read(`assets/${file}`);
    if (!body) return c.notFound();
    return c.body(body, 200, {
      ...security,
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
    });
  });
}
