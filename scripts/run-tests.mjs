// Runs the whole vitest suite with coverage and ends with the coverage of each package, then one plain summary
// line ("Tests: N passed, N failed[, N skipped]"): CI reads that line, so it is always the last one printed.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';

mkdirSync('.tsbuild', { recursive: true });
const report = '.tsbuild/vitest-report.json';
const coverageSummary = '.tsbuild/coverage/coverage-summary.json';
rmSync(report, { force: true });
rmSync(coverageSummary, { force: true });
const startedAt = Date.now();
// Coverage and its floors are about the whole suite: a run of some files only (`pnpm test:all <path>`) skips it.
const subset = process.argv.slice(2).some((a) => !a.startsWith('-'));

/**
 * The tests' scratch files (data directories, SQLite files, releases, browser profiles) go to one directory per
 * run, removed at its end whatever its tests leave, and on tmpfs where the machine has room for it (as Debian 13
 * mounts /tmp). On a virtual disk each SQLite commit at synchronous=FULL waits on an fsync: on 2 cores the suite
 * took 392 s with its files on disk, 368 and 382 s on tmpfs (2026-12-03). No test needs the disk: the crash tests
 * kill the process, not the machine. A container's small /dev/shm (64 MB) is left alone; an explicit TMPDIR is
 * kept as the parent.
 */
function scratchParent() {
  if (process.env.TMPDIR) return process.env.TMPDIR;
  try {
    accessSync('/dev/shm', constants.W_OK);
    const fs = statfsSync('/dev/shm');
    if (fs.bavail * fs.bsize >= 2 ** 30) return '/dev/shm';
  } catch {}
  return tmpdir();
}
const scratch = mkdtempSync(join(scratchParent(), 'crema-tests-'));
const run = spawnSync(
  'pnpm',
  [
    'exec',
    'vitest',
    'run',
    ...(subset ? [] : ['--coverage']),
    '--reporter=default',
    '--reporter=./scripts/test-progress.mjs',
    '--reporter=json',
    `--outputFile.json=${report}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit', env: { ...process.env, TMPDIR: scratch } },
);
rmSync(scratch, { recursive: true, force: true });

/** Sums vitest's per-file json-summary into one line per package (the first folder of the path). */
function coverageByPackage() {
  const files = JSON.parse(readFileSync(coverageSummary, 'utf8'));
  const metrics = ['lines', 'statements', 'functions', 'branches'];
  const packages = new Map();
  for (const [file, m] of Object.entries(files)) {
    if (file === 'total') continue;
    const pkg = relative(process.cwd(), file).split(sep)[0];
    const sums = packages.get(pkg) ?? Object.fromEntries(metrics.map((k) => [k, { covered: 0, total: 0 }]));
    for (const k of metrics) {
      sums[k].covered += m[k].covered;
      sums[k].total += m[k].total;
    }
    packages.set(pkg, sums);
  }
  const pct = ({ covered, total }) =>
    (total === 0 ? '100.0' : ((100 * covered) / total).toFixed(1)).padStart(5);
  const floors = JSON.parse(readFileSync('scripts/coverage-floors.json', 'utf8'));
  const below = [];
  const lines = ['', 'Coverage by package (floor): lines / statements / functions / branches'];
  for (const [pkg, sums] of [...packages].sort()) {
    const cells = metrics.map((k) => {
      const floor = floors[pkg]?.[k];
      return `${pct(sums[k])}%${floor === undefined ? '' : ` (${floor})`}`;
    });
    lines.push(`  ${pkg.padEnd(14)} ${cells.join('  ')}`);
    for (const k of metrics) {
      const floor = floors[pkg]?.[k];
      if (floor !== undefined && Number(pct(sums[k])) < floor)
        below.push(`${pkg} ${k} ${pct(sums[k]).trim()}% < ${floor}%`);
    }
  }
  if (below.length > 0) lines.push(`Coverage below its floor (the run fails): ${below.join(', ')}`);
  return lines.join('\n');
}

let coverage = subset
  ? '\nCoverage: not measured for a run of some files'
  : '\nCoverage: no summary was written';
try {
  coverage = coverageByPackage();
} catch {}
let summary = 'no test report was written';
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = r.numPendingTests + r.numTodoTests;
  // A file that fails outside its tests (a hook, an import) counts as one failure: its tests never ran.
  const brokenFiles = r.testResults.filter(
    (f) => f.status === 'failed' && !f.assertionResults.some((a) => a.status === 'failed'),
  ).length;
  const failed = r.numFailedTests + brokenFiles;
  summary = `${r.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
} catch {}
console.log(coverage);
console.log(`Duration: ${Math.round((Date.now() - startedAt) / 1000)} s`);
console.log(`\nTests: ${summary}`);
process.exit(run.status ?? 1);
