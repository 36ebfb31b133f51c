import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BrewerDialect } from '../line/brewer';
import { BrewerDescription } from '../line/brewer-describe';
import type { Dialect } from '../line/frame';
import { PaymentDialect } from '../line/payment';
import { PaymentDescription } from '../line/payment-describe';
import { MESSAGE_TYPES, MessageCatalog } from '../messages/catalog';
import { CommandSchema } from '../messages/command';
import { EnvelopeHeaderSchema } from '../messages/envelope';
import { FieldNotes } from './field-notes';
import { DOC_PATH, REGENERATE_COMMAND, renderDocument } from './generate';
import { fillMarkers } from './markers';
import { fieldRows, SharedObjects, toJsonSchema } from './schema-table';

describe('docs/protocol.md', () => {
  const current = readFileSync(DOC_PATH, 'utf8');

  it('matches the schemas (drift check)', () => {
    const regenerated = renderDocument(current);
    if (regenerated !== current) {
      const a = current.split('\n');
      const b = regenerated.split('\n');
      const line = a.findIndex((l, i) => l !== b[i]);
      expect.fail(
        `docs/protocol.md is out of date with protocol/src (first difference at line ${line + 1}: ` +
          `${JSON.stringify(a[line]?.slice(0, 80))} should be ${JSON.stringify(b[line]?.slice(0, 80))}). ` +
          `Regenerate it with: ${REGENERATE_COMMAND}`,
      );
    }
  });

  it('documents every message type, command kind and error code', () => {
    for (const t of MESSAGE_TYPES) expect(current).toContain(`### Message ${t}\n`);
    for (const o of CommandSchema.options) expect(current).toContain(`#### Command ${o.shape.kind.value}\n`);
    for (const name of Object.keys(SharedObjects)) expect(current).toContain(`### ${name}\n`);
  });
});

describe('field notes', () => {
  const tables: Record<string, string[]> = {
    envelope: fieldRows(toJsonSchema(EnvelopeHeaderSchema)).map((r) => r.path),
  };
  for (const t of MESSAGE_TYPES)
    tables[t] = fieldRows(toJsonSchema(MessageCatalog[t].schema)).map((r) => r.path);
  const commands = toJsonSchema(CommandSchema).oneOf ?? [];
  tables.command = [...(fieldRows(commands[0] ?? {}).map((r) => r.path) ?? [])];
  for (const v of commands) {
    tables[`command:${String(v.properties?.kind?.const)}`] = fieldRows(v.properties?.params ?? {}).map(
      (r) => r.path,
    );
  }
  for (const [name, schema] of Object.entries(SharedObjects))
    tables[name] = fieldRows(toJsonSchema(schema)).map((r) => r.path);

  it.each(Object.entries(FieldNotes))('%s notes name existing fields', (table, notes) => {
    expect(tables[table], `no table ${table}`).toBeDefined();
    for (const path of Object.keys(notes)) expect(tables[table], `${table}.${path}`).toContain(path);
  });
});

describe('dialect descriptions', () => {
  it.each([
    ['brewer', BrewerDialect, BrewerDescription],
    ['payment', PaymentDialect, PaymentDescription],
  ] as const)('%s describes exactly the verbs of its codec', (_name, dialect: Dialect, description) => {
    for (const kind of ['request', 'reply', 'event'] as const) {
      expect(Object.keys(description[kind]).sort()).toEqual(Object.keys(dialect[kind]).sort());
    }
  });
});

describe('fillMarkers', () => {
  const doc =
    'intro\n<!-- generated:a -->\nold\n<!-- /generated:a -->\nmiddle\n<!-- generated:b --><!-- /generated:b -->\nend\n';

  it('replaces only what is between markers', () => {
    expect(fillMarkers(doc, { a: 'A1\nA2', b: 'B' })).toBe(
      'intro\n<!-- generated:a -->\nA1\nA2\n<!-- /generated:a -->\nmiddle\n<!-- generated:b -->\nB\n<!-- /generated:b -->\nend\n',
    );
  });

  it('is idempotent', () => {
    const once = fillMarkers(doc, { a: 'x', b: 'y' });
    expect(fillMarkers(once, { a: 'x', b: 'y' })).toBe(once);
  });

  it('refuses a marker without a section and a section without a marker', () => {
    expect(() => fillMarkers(doc, { a: 'x' })).toThrow(/no generator for section b/);
    expect(() => fillMarkers(doc, { a: 'x', b: 'y', c: 'z' })).toThrow(/lacks markers for: c/);
  });
});
