import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Files that run for a minute or more, mostly waiting on real time (kills, an outage, reconnects). They start
 * first so that the short files fill the gaps beside them instead of queueing behind them at the end.
 */
const LONG_FILES = [
  'agent/test/crash.test.ts',
  'tests/src/outage.test.ts',
  'hub/test/api/matrix/matrix.test.ts',
  'tests/src/sync.test.ts',
  'tests/src/commands.test.ts',
  'tests/src/broker.test.ts',
  'scripts/fleet/fleet.test.ts',
  'tests/src/console/console.test.ts',
];

class LongFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = LONG_FILES.findIndex((p) => f.moduleId.endsWith(p));
      return i === -1 ? LONG_FILES.length : i;
    };
    return sorted
      .map((file, index) => ({ file, index }))
      .sort((a, b) => rank(a.file) - rank(b.file) || a.index - b.index)
      .map((x) => x.file);
  }
}

type Floor = { lines: number; statements: number; functions: number; branches: number };
/**
 * Packages whose sources are measured, each with its floors in % (about 3 points under the figures of
 * 2026-12-03: a real drop fails CI, the noise of a run does not). scripts/run-tests.mjs prints them too.
 */
const COVERAGE_FLOORS: Record<string, Floor> = JSON.parse(
  readFileSync(join(import.meta.dirname, 'scripts', 'coverage-floors.json'), 'utf8'),
);

/**
 * One run over the whole workspace, as one project: every file of every package shares the same workers and the
 * same transform cache. With one project per package (as until 2026-12-04), each package had its own Vite server
 * and workers: the run started 21 workers, each loading and transforming protocol, zod and its package's stack
 * anew (transform 20 s, import 54 s); as one project, transform 10 s and import 23 s, and the suite took 252 s
 * instead of 275-338 s on this 2-core machine.
 * `isolate: false`: a worker keeps the modules it has loaded from one file to the next. Isolated, each of the 224
 * files loaded hub, agent, zod and kysely anew (about 340 s of the run's "import" time and a third of its CPU);
 * shared, the suite took 404 s instead of 529 s. No test mocks modules; a file that changes process-wide state
 * (timers, globals, env) puts it back in its own hooks.
 * Run one package's files with a path: `pnpm exec vitest run agent/`.
 */
export default defineConfig({
  test: {
    isolate: false,
    include: [
      '{protocol,firmware-sim,agent,tests}/{src,test}/**/*.test.ts',
      'hub/{src,test,console/test}/**/*.test.ts',
      'scripts/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**'],
    // Time limits by folder (a worker runs files of every package).
    setupFiles: ['./scripts/test-timeouts.ts'],
    // The slow files wait on sockets, child processes and timers far more than they compute (the whole suite
    // takes about 6 CPU-minutes against 10 minutes of file durations): one worker more than there are cores
    // keeps both cores of CI busy, where vitest's default (cores - 1) runs a 2-core machine one file at a time.
    // VITEST_MAX_WORKERS overrides it.
    maxWorkers: Math.min(8, availableParallelism() + 1),
    sequence: { sequencer: LongFilesFirst },
    coverage: {
      // Off unless asked for (`--coverage`, as scripts/run-tests.mjs does): a single-file run stays quick.
      provider: 'v8',
      include: Object.keys(COVERAGE_FLOORS).map((pkg) => `${pkg}/src/**/*.ts`),
      exclude: ['**/*.test.ts', '**/*.d.ts', 'protocol/src/testing/**'],
      reporter: [['json-summary', { file: 'coverage-summary.json' }]],
      reportsDirectory: '.tsbuild/coverage',
      // The per-package figures are printed even when a test fails.
      reportOnFailure: true,
      thresholds: Object.fromEntries(
        Object.entries(COVERAGE_FLOORS).map(([pkg, floor]) => [`${pkg}/src/**/*.ts`, floor]),
      ),
    },
  },
});
