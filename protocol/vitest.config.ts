import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'protocol',
    // Files share their worker's loaded modules (see the root config).
    isolate: false,
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Files run side by side (more workers than cores): a CPU-bound test may take twice its time alone.
    testTimeout: 20000,
    hookTimeout: 20000,
  },
});
