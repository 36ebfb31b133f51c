import { z } from 'zod';
import { DeviceIdSchema, IdSchema, SemverSchema } from '../common';

/** Crockford base32: no I, L, O or U, so a person reading a code aloud or off paper cannot confuse letters. */
export const CLAIM_CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** 16 symbols of 5 bits: 80 random bits, written as four groups of four (`7K3M-QX2A-…`). */
export const CLAIM_CODE_SYMBOLS = 16;

/**
 * The canonical form of a typed code: upper case, without separators, with the look-alikes Crockford allows
 * (`I`/`L` → `1`, `O` → `0`); undefined when it cannot be a claim code.
 */
export function normalizeClaimCode(typed: string): string | undefined {
  const text = typed.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
  if (text.length !== CLAIM_CODE_SYMBOLS) return undefined;
  for (const ch of text) if (!CLAIM_CODE_ALPHABET.includes(ch)) return undefined;
  return text;
}

/** The canonical code in groups of four, as an admin is shown it. */
export function formatClaimCode(canonical: string): string {
  return canonical.match(/.{1,4}/g)?.join('-') ?? canonical;
}

/** A claim code as typed (any case, with or without `-` or spaces), canonicalised. */
export const ClaimCodeSchema = z
  .string()
  .max(64)
  .transform((typed, ctx) => {
    const code = normalizeClaimCode(typed);
    if (code === undefined) {
      ctx.addIssue({ code: 'custom', message: `${CLAIM_CODE_SYMBOLS} Crockford base32 symbols` });
      return z.NEVER;
    }
    return code;
  });

/**
 * `POST /api/v1/device/claim`: a machine with no credential yet presents a one-time claim code an admin issued
 * for a merchant and location, and is registered there under `deviceId`.
 */
export const ClaimRequestSchema = z
  .object({
    code: ClaimCodeSchema,
    deviceId: DeviceIdSchema,
    model: IdSchema,
    firmwareVersion: SemverSchema.optional(),
  })
  .strict();
export type ClaimRequest = z.input<typeof ClaimRequestSchema>;

/** The claim's answer: the device's own credential, shown only this once (the hub keeps a hash). */
export const ClaimAnswerSchema = z.object({
  deviceId: DeviceIdSchema,
  credential: z.string().min(16).max(512),
  merchantId: IdSchema,
  locationId: IdSchema.nullable(),
});
export type ClaimAnswer = z.infer<typeof ClaimAnswerSchema>;
