import { z } from 'zod';
import { CommandSchema } from '../messages/command';
import { ConfigSchema } from '../messages/config';
import { PriceListSchema, RecipeBundleSchema, RecipeSchema } from '../recipe/recipe';
import { RecipeStepSchema } from '../recipe/steps';

/** The subset of JSON Schema that z.toJSONSchema emits for Crema's schemas. */
export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  default?: unknown;
  additionalProperties?: JsonSchema | boolean;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
};

/** Shared objects documented once in their own section; other tables link to them instead of repeating them. */
export const SharedObjects = {
  RecipeBundle: RecipeBundleSchema,
  Recipe: RecipeSchema,
  RecipeStep: RecipeStepSchema,
  PriceList: PriceListSchema,
  Config: ConfigSchema,
} as const;
export type SharedObjectName = keyof typeof SharedObjects;

/** Schemas documented elsewhere under another heading: references to them link to that heading. */
const Linked: Record<string, { schema: z.ZodType; anchor: string }> = {
  Command: { schema: CommandSchema, anchor: 'message-command' },
};

const registry = z.registry<{ id: string }>();
for (const [id, schema] of Object.entries(SharedObjects)) registry.add(schema, { id });
for (const [id, { schema }] of Object.entries(Linked)) registry.add(schema, { id });

export function toJsonSchema(schema: z.ZodType): JsonSchema {
  const js = z.toJSONSchema(schema, {
    io: 'input',
    metadata: registry,
    unrepresentable: 'any',
  }) as JsonSchema;
  // A shared object rendered on its own comes back as a reference to itself.
  const self = js.$ref?.replace('#/$defs/', '');
  return self && js.$defs?.[self] ? js.$defs[self] : js;
}

export type FieldRow = { path: string; type: string; required: boolean; constraints: string };

const code = (v: unknown) => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;
export const anchorOf = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');

function typeName(s: JsonSchema): string {
  if (s.$ref) {
    const name = s.$ref.replace('#/$defs/', '');
    return `[${name}](#${Linked[name]?.anchor ?? anchorOf(name)})`;
  }
  if (s.const !== undefined) return `${code(s.const)}`;
  if (s.enum) return s.enum.map(code).join(' \\| ');
  const variants = s.oneOf ?? s.anyOf;
  if (variants) return variants.map(typeName).join(' \\| ');
  if (s.type === 'array') return `array of ${s.items ? typeName(s.items) : 'any'}`;
  if (s.type === 'object' && !s.properties && s.additionalProperties) return 'object (free-form)';
  if (Array.isArray(s.type)) return s.type.join(' \\| ');
  return s.type ?? 'any JSON value';
}

function constraints(s: JsonSchema): string {
  const out: string[] = [];
  const bound = (n: number | undefined) => n !== undefined && Math.abs(n) < Number.MAX_SAFE_INTEGER;
  if (bound(s.minimum) && bound(s.maximum)) out.push(`${s.minimum} … ${s.maximum}`);
  else if (bound(s.minimum)) out.push(`≥ ${s.minimum}`);
  else if (bound(s.maximum)) out.push(`≤ ${s.maximum}`);
  if (s.exclusiveMinimum !== undefined) out.push(`> ${s.exclusiveMinimum}`);
  if (s.exclusiveMaximum !== undefined) out.push(`< ${s.exclusiveMaximum}`);
  if (s.minLength !== undefined || s.maxLength !== undefined)
    out.push(`length ${s.minLength ?? 0} … ${s.maxLength ?? '∞'}`);
  if (s.minItems !== undefined || s.maxItems !== undefined)
    out.push(`${s.minItems ?? 0} … ${s.maxItems ?? '∞'} items`);
  if (s.pattern) out.push(`pattern \`${s.pattern.replace(/\|/g, '\\|')}\``);
  if (s.format) out.push(`format ${s.format}`);
  if (s.default !== undefined) out.push(`default ${code(s.default)}`);
  return out.join('; ');
}

/** Flattens an object schema into one row per field, nested fields as dotted paths (`items[].amount`). */
export function fieldRows(schema: JsonSchema, prefix = ''): FieldRow[] {
  const rows: FieldRow[] = [];
  const required = new Set(schema.required ?? []);
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const path = prefix + name;
    rows.push({ path, type: typeName(prop), required: required.has(name), constraints: constraints(prop) });
    if (prop.type === 'object' && prop.properties) rows.push(...fieldRows(prop, `${path}.`));
    if (prop.type === 'array' && prop.items?.type === 'object' && prop.items.properties)
      rows.push(...fieldRows(prop.items, `${path}[].`));
  }
  return rows;
}

export function fieldTable(schema: JsonSchema, notes: Readonly<Record<string, string>> = {}): string {
  const rows = fieldRows(schema);
  if (rows.length === 0) return '_No fields: send `{}`._';
  const lines = ['| field | type | required | constraints | meaning |', '|---|---|---|---|---|'];
  for (const r of rows) {
    lines.push(
      `| \`${r.path}\` | ${r.type} | ${r.required ? 'yes' : 'no'} | ${r.constraints} | ${notes[r.path] ?? ''} |`,
    );
  }
  return lines.join('\n');
}
