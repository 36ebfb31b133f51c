import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'firmware-sim',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 10000,
    hookTimeout: 10000,
  },
});
