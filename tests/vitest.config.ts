import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'tests',
    // Files share their worker's loaded modules (see the root config).
    isolate: false,
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60000,
    hookTimeout: 60000,
  },
});
