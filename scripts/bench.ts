import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `pnpm bench` lists the benchmarks; `pnpm bench <name>…` runs them (names are `<package>/<file>` without
 * `.ts`, e.g. `hub/ingest`). Each benchmark prints its own figures and the machine it ran on.
 */
const root = join(import.meta.dirname, '..');
const packages = ['protocol', 'firmware-sim', 'agent', 'hub', 'tests'];

function available(): Map<string, string> {
  const found = new Map<string, string>();
  for (const pkg of packages) {
    const dir = join(root, pkg, 'bench');
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.includes('.test.'))) {
      found.set(`${pkg}/${file.replace(/\.ts$/, '')}`, join(dir, file));
    }
  }
  return found;
}

const benches = available();
const given = process.argv.slice(2).filter((a) => a !== '--');
// Names first, then options for the benchmarks (`pnpm bench hub/ingest --seconds 5`).
const firstFlag = given.findIndex((a) => a.startsWith('-'));
const wanted = firstFlag < 0 ? given : given.slice(0, firstFlag);
const flags = firstFlag < 0 ? [] : given.slice(firstFlag);
if (wanted.length === 0) {
  console.log('benchmarks (pnpm bench <name> [...]):');
  for (const name of benches.keys()) console.log(`  ${name}`);
  process.exit(0);
}
let failed = 0;
for (const name of wanted) {
  const file = benches.get(name);
  if (!file) {
    console.error(`unknown benchmark ${name}; run \`pnpm bench\` for the list`);
    failed++;
    continue;
  }
  console.log(`\n== ${name}`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', file, ...flags], {
    stdio: 'inherit',
    cwd: root,
  });
  if (run.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
