import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

/**
 * Bundles the console into hub/console/dist (one script, one stylesheet, one page), which the hub serves at
 * /console/. Runs inside the README's set-up command (scripts/setup.sh); nothing is fetched at run time.
 */
const root = new URL('..', import.meta.url);
const out = new URL('dist/', root);

export async function buildConsole(): Promise<{ js: number; css: number }> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const result = await build({
    entryPoints: { app: new URL('src/main.tsx', root).pathname },
    outdir: new URL('assets/', out).pathname,
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    sourcemap: false,
    metafile: true,
    logLevel: 'warning',
  });
  writeFileSync(new URL('index.html', out), PAGE);
  const sizes = { js: 0, css: 0 };
  for (const [file, meta] of Object.entries(result.metafile.outputs)) {
    if (file.endsWith('.js')) sizes.js += meta.bytes;
    if (file.endsWith('.css')) sizes.css += meta.bytes;
  }
  return sizes;
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <title>Crema console</title>
  <link rel="stylesheet" href="/console/assets/app.css">
</head>
<body>
  <div id="app"></div>
  <noscript>The Crema console needs JavaScript.</noscript>
  <script type="module" src="/console/assets/app.js"></script>
</body>
</html>
`;

if (import.meta.url === `file://${process.argv[1]}`) {
  const { js, css } = await buildConsole();
  process.stdout.write(`console built: app.js ${js} B, app.css ${css} B\n`);
}
