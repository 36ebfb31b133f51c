import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { HubApp } from './env';

/** Files of the `swagger-ui-dist` package the docs page uses, with their content types. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const INIT_JS = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/api/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    // The default validator badge loads an image from the internet; offline, nothing leaves the hub.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Crema hub API</title>
  <link rel="stylesheet" href="/api/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/api/docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/api/docs/swagger-ui-bundle.js"></script>
  <script src="/api/docs/init.js"></script>
</body>
</html>
`;

/** The page may load nothing from elsewhere: it works offline and a compromised CDN cannot script it. */
const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self' data:";

/**
 * Swagger UI for the API document, with every asset served by the hub itself from the bundled
 * `swagger-ui-dist` package (nothing from a CDN, so the page works on an offline network). Files are read
 * on first request and kept.
 */
export function registerApiDocs(app: HubApp): void {
  const dir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const cache = new Map<string, Buffer>();
  const headers = (type: string) => ({ 'content-type': type, 'cache-control': 'public, max-age=86400' });

  app.get('/api/docs', (c) => c.html(PAGE, 200, { 'content-security-policy': PAGE_CSP }));
  app.get('/api/docs/init.js', (c) => c.body(INIT_JS, 200, headers(ASSETS['swagger-ui-bundle.js'] ?? '')));
  for (const [file, type] of Object.entries(ASSETS)) {
    app.get(`/api/docs/${file}`, (c) => {
      let body = cache.get(file);
      if (body === undefined) {
        body = readFileSync(join(dir, file));
        cache.set(file, body);
      }
      return c.body(new Uint8Array(body), 200, headers(type));
    });
  }
}
