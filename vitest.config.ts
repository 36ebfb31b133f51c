import { defineConfig } from 'vitest/config';

// One run over the whole workspace; each package is a project with its own settings.
export default defineConfig({
  test: {
    projects: ['protocol', 'firmware-sim', 'agent', 'hub', 'tests'],
  },
});
