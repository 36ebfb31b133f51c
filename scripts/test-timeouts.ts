import { join, relative, sep } from 'node:path';
import { expect, vi } from 'vitest';

/**
 * Set before each file (a worker runs files of every package and keeps the last one's settings): unit files get
 * 20 s (side by side with other files, a CPU-bound test may take twice its time alone), the cross-package
 * scenarios (`tests/`) and the fleet (`scripts/`) 60 s.
 */
const root = join(import.meta.dirname, '..');
const folder = relative(root, expect.getState().testPath ?? '').split(sep)[0];
const limit = folder === 'tests' || folder === 'scripts' ? 60_000 : 20_000;
vi.setConfig({ testTimeout: limit, hookTimeout: limit });
