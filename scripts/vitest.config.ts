import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'scripts',
    // Files share their worker's loaded modules (see the root config).
    isolate: false,
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 60000,
    hookTimeout: 60000,
  },
});
