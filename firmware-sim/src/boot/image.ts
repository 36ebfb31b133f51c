import { z } from 'zod';

/**
 * A brewer image as the simulated bootloader reads it: `CRIM`, a 2-byte big-endian header length, the header
 * (UTF-8 JSON: version, model), then the program. The simulator "runs" the program by reading its first line,
 * a JSON object of the physical behaviour the image gives the machine; the rest is filler, so images have a
 * realistic size to flash.
 */
const MAGIC = [0x43, 0x52, 0x49, 0x4d]; // "CRIM"

export const ImageHeaderSchema = z.object({ version: z.string().min(1).max(40), model: z.string().min(1) });

export const ImageProgramSchema = z
  .object({
    /** Share of the heater's power the image drives (a bad heater loop never reaches brewing temperature). */
    heaterPct: z.number().min(0).max(100).default(100),
    /** The image crashes this long after boot; 0: at boot, before it can say READY. */
    crashAfterMs: z.number().int().min(0).optional(),
    /** The version the image reports in READY and INFO, when it is not the one in its header (a bad build). */
    reportsVersion: z.string().min(1).max(40).optional(),
  })
  .strict();

export type ImageHeader = z.infer<typeof ImageHeaderSchema>;
export type ImageProgram = z.infer<typeof ImageProgramSchema>;
export type BrewerImage = ImageHeader & { program: ImageProgram };

export function buildImage(
  header: ImageHeader,
  program: z.input<typeof ImageProgramSchema> = {},
  size = 4096,
): Uint8Array {
  const head = new TextEncoder().encode(JSON.stringify(ImageHeaderSchema.parse(header)));
  const code = new TextEncoder().encode(`${JSON.stringify(ImageProgramSchema.parse(program))}\n`);
  const total = Math.max(size, 6 + head.length + code.length);
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[4] = head.length >> 8;
  out[5] = head.length & 0xff;
  out.set(head, 6);
  out.set(code, 6 + head.length);
  // Deterministic filler: a flipped byte anywhere in it still changes the image's hash.
  for (let i = 6 + head.length + code.length, x = head.length; i < total; i++) {
    x = (x * 1_103_515_245 + 12_345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** The image in `bytes`, or undefined when it is not a readable image. */
export function parseImage(bytes: Uint8Array): BrewerImage | undefined {
  if (bytes.length < 6 || MAGIC.some((b, i) => bytes[i] !== b)) return undefined;
  const headLength = ((bytes[4] ?? 0) << 8) | (bytes[5] ?? 0);
  try {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const header = ImageHeaderSchema.parse(JSON.parse(decoder.decode(bytes.subarray(6, 6 + headLength))));
    const rest = bytes.subarray(6 + headLength);
    const nl = rest.indexOf(0x0a);
    if (nl < 0) return undefined;
    const program = ImageProgramSchema.parse(JSON.parse(decoder.decode(rest.subarray(0, nl))));
    return { ...header, program };
  } catch {
    return undefined;
  }
}

/** Images whose faults are in what they do, for tests of the update path. */
export const TestImages = {
  good: (model: string, version: string) => buildImage({ model, version }),
  coldBoiler: (model: string, version: string) => buildImage({ model, version }, { heaterPct: 30 }),
  crashAtBoot: (model: string, version: string) => buildImage({ model, version }, { crashAfterMs: 0 }),
  wrongVersion: (model: string, version: string, reports: string) =>
    buildImage({ model, version }, { reportsVersion: reports }),
} as const;
