import { z } from 'zod';

/** Device ids appear in MQTT topics, so they exclude `/`, `+`, `#` and spaces. */
export const DeviceIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{2,63}$/, 'lowercase letters, digits, - and _, 3 to 64 characters');
export type DeviceId = z.infer<typeof DeviceIdSchema>;

export const IdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits, _ . : -');

/** Milliseconds since the Unix epoch. */
export const TimestampSchema = z.number().int().min(0).max(8.64e15);

/** Money is always an integer number of minor units (cents) with an ISO 4217 currency. */
export const AmountSchema = z.number().int().min(0).max(100_000_000);
export const CurrencySchema = z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code such as EUR');

export const SemverSchema = z
  .string()
  .regex(/^\d{1,4}\.\d{1,4}\.\d{1,4}(?:-[0-9A-Za-z.-]{1,32})?$/, 'semantic version such as 1.4.2');

export const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'lowercase hex sha256');

/** The five materials every machine had before bins were bindable: the default binding of bins 1 to 5. */
export const MaterialSchema = z.enum(['water', 'beans', 'milk', 'cups', 'waste']);
export type Material = z.infer<typeof MaterialSchema>;

export const MATERIAL_UNITS = { water: 'ml', beans: 'g', milk: 'ml', cups: 'pcs', waste: 'pct' } as const;

/**
 * A material is named by the code of the merchant's catalog material (`beans`, `chocolate`, `oat_milk`).
 * The five default kinds are codes too, so every older message still parses.
 */
export const MaterialCodeSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{1,31}$/, 'lowercase letters, digits and _, 2 to 32 characters');
export type MaterialCode = z.infer<typeof MaterialCodeSchema>;

export const MaterialUnitSchema = z.enum(['ml', 'g', 'pcs', 'pct']);
export type MaterialUnit = z.infer<typeof MaterialUnitSchema>;

/** A machine's bins are numbered from 1; bins 1 to 5 are the tank, hopper, milk line, cup stack, grounds bin. */
export const BinNumberSchema = z.number().int().min(1).max(32);

/** The binding a machine has when nothing else is configured: bin n holds the n-th default material. */
export const DEFAULT_BINS: ReadonlyArray<{ bin: number; material: Material; unit: MaterialUnit }> =
  MaterialSchema.options.map((material, i) => ({ bin: i + 1, material, unit: MATERIAL_UNITS[material] }));

/** One bin of a machine and the material bound to it, with its unit and optionally its capacity. */
export const BinBindingSchema = z
  .object({
    bin: BinNumberSchema,
    material: MaterialCodeSchema,
    unit: MaterialUnitSchema,
    /** Overrides the capacity the machine's sensor reports. */
    capacity: z.number().positive().max(1_000_000).optional(),
  })
  .strict();
export type BinBinding = z.infer<typeof BinBindingSchema>;

/** A machine's whole binding: each bin number and each material at most once (a material has one source). */
export const BinBindingsSchema = z
  .array(BinBindingSchema)
  .min(1)
  .max(32)
  .superRefine((bins, ctx) => {
    const twice = (keys: Array<string | number>, what: string) => {
      const dupe = keys.find((k, i) => keys.indexOf(k) !== i);
      if (dupe !== undefined) ctx.addIssue({ code: 'custom', message: `${what} ${dupe} is bound twice` });
    };
    twice(
      bins.map((b) => b.bin),
      'bin',
    );
    twice(
      bins.map((b) => b.material),
      'material',
    );
  });

/** The default bin of one of the five kinds, or undefined for any other material. */
export function defaultBinOf(material: string): number | undefined {
  return DEFAULT_BINS.find((b) => b.material === material)?.bin;
}

export const PaymentMethodSchema = z.enum(['card', 'free_vend']);
export type PaymentMethod = z.infer<typeof PaymentMethodSchema>;

export const SeveritySchema = z.enum(['info', 'warning', 'critical']);
export type Severity = z.infer<typeof SeveritySchema>;

/** Semantic version comparison: negative when a < b. Pre-release sorts before its release (semver §11). */
export function compareSemver(a: string, b: string): number {
  const [ca, pa] = splitPre(a);
  const [cb, pb] = splitPre(b);
  const na = ca.split('.').map(Number);
  const nb = cb.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (na[i] ?? 0) - (nb[i] ?? 0);
    if (d !== 0) return d;
  }
  if (pa === pb) return 0;
  if (pa === undefined) return 1;
  if (pb === undefined) return -1;
  return comparePre(pa.split('.'), pb.split('.'));
}

function splitPre(v: string): [string, string | undefined] {
  const dash = v.indexOf('-');
  return dash < 0 ? [v, undefined] : [v.slice(0, dash), v.slice(dash + 1)];
}

/** Numeric identifiers compare as numbers and sort before alphanumeric ones; a shorter prefix sorts first. */
function comparePre(a: string[], b: string[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    if (xn && yn) return Number(x) - Number(y);
    if (xn !== yn) return xn ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** JSON with object keys sorted, the form that signatures and hashes are computed over. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    // A null-prototype object: a `__proto__` key must stay a plain field, not replace the prototype.
    const out: Record<string, unknown> = Object.create(null);
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}
