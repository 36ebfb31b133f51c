import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { buildImage } from './image';

/**
 * `pnpm sim:image`: writes a brewer firmware image the simulator's bootloader takes, to upload to a hub and
 * roll out (hub/README.md "Updating the fleet"). The behaviours are the test images': `good`, `cold-boiler`
 * (the boiler never reaches brewing temperature), `crash-at-boot`, `wrong-version` (INFO reports another).
 */
const FlagsSchema = z.object({
  kind: z.enum(['good', 'cold-boiler', 'crash-at-boot', 'wrong-version']).default('good'),
  model: z.string().min(1).max(64).default('cm-1'),
  version: z.string().regex(/^\d+\.\d+\.\d+$/, 'a version such as 1.5.0'),
  out: z.string().min(1),
  'size-kib': z.coerce.number().int().min(4).max(65_536).default(256),
});

const USAGE =
  'usage: pnpm sim:image --version 1.5.0 --out image.bin [--kind good|cold-boiler|crash-at-boot|wrong-version] [--model cm-1] [--size-kib 256]';

function main(): void {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2).filter((a) => a !== '--'),
      strict: true,
      options: {
        kind: { type: 'string' },
        model: { type: 'string' },
        version: { type: 'string' },
        out: { type: 'string' },
        'size-kib': { type: 'string' },
      },
    }));
  } catch (e) {
    process.stderr.write(`crema-sim image: ${(e as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const parsed = FlagsSchema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    process.stderr.write(`crema-sim image: --${issue?.path.join('.')}: ${issue?.message}\n${USAGE}\n`);
    process.exit(2);
  }
  const f = parsed.data;
  const program =
    f.kind === 'cold-boiler'
      ? { heaterPct: 30 }
      : f.kind === 'crash-at-boot'
        ? { crashAfterMs: 0 }
        : f.kind === 'wrong-version'
          ? { reportsVersion: `${f.version}-other` }
          : {};
  const bytes = buildImage({ model: f.model, version: f.version }, program, f['size-kib'] * 1024);
  writeFileSync(f.out, bytes);
  process.stdout.write(
    `${JSON.stringify({ out: f.out, kind: f.kind, model: f.model, version: f.version, size: bytes.length })}\n`,
  );
}

main();
