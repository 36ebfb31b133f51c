import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateSchemaTypes, SCHEMA_FILE } from '../build/openapi-types';

/**
 * The console is typed against the committed types; they must be what the hub's document gives today, so a
 * changed route breaks this test (and, through the types, the console's type-check) rather than a page.
 */
describe('console API types', () => {
  it('match the OpenAPI document the hub serves (run pnpm --filter @crema/hub console:types)', async () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(await generateSchemaTypes());
  });
});
