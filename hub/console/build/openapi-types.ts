import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import { pino } from 'pino';
import { Hub } from '../../src/hub';

/** The console's API types, generated from the document a real hub serves. */
export const SCHEMA_FILE = new URL('../src/api/schema.d.ts', import.meta.url);

const HEADER = `// Generated from the hub's /api/openapi.json by hub/console/build/openapi-types.ts: do not edit.
// Regenerate: pnpm --filter @crema/hub console:types
`;

/** Starts a throw-away hub (free ports, temp dir), reads its OpenAPI document and stops it. */
export async function fetchOpenApiDocument(): Promise<unknown> {
  const dataDir = mkdtempSync(join(tmpdir(), 'crema-openapi-'));
  const hub = new Hub({
    config: {
      host: '127.0.0.1',
      port: 0,
      mqttPort: 0,
      dataDir,
      logLevel: 'silent',
      adminEmail: 'openapi@crema.local',
      adminPassword: randomBytes(18).toString('base64url'),
    },
    logger: pino({ level: 'silent' }),
    announce: () => {},
  });
  try {
    const { http } = await hub.start();
    const res = await fetch(new URL('/api/openapi.json', http));
    if (!res.ok) throw new Error(`GET /api/openapi.json answered ${res.status}`);
    return await res.json();
  } finally {
    await hub.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function generateSchemaTypes(): Promise<string> {
  const doc = await fetchOpenApiDocument();
  // biome-ignore lint/suspicious/noExplicitAny: openapi-typescript takes its own OpenAPI3 type
  const ast = await openapiTS(doc as any);
  return HEADER + astToString(ast);
}

/** `--check`: exit 1 when the committed types differ from the hub's document (a route changed). */
async function main(): Promise<void> {
  const fresh = await generateSchemaTypes();
  if (process.argv.includes('--check')) {
    const committed = readFileSync(SCHEMA_FILE, 'utf8');
    if (committed !== fresh) {
      process.stderr.write(
        'hub/console/src/api/schema.d.ts is stale: run pnpm --filter @crema/hub console:types\n',
      );
      process.exit(1);
    }
    return;
  }
  writeFileSync(SCHEMA_FILE, fresh);
  process.stdout.write(`wrote ${SCHEMA_FILE.pathname}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
