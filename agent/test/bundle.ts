import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildAgentCli } from '../build';
import { repoRoot } from './support';

/**
 * The agent CLI compiled as a machine runs it (see agent/build.ts), under agent/node_modules/.cache so that
 * its external imports resolve; `dispose` removes it and the code cache its starts leave beside it.
 */
export async function bundleAgentCli(): Promise<{ file: string; dispose(): void }> {
  const dir = join(repoRoot, 'agent', 'node_modules', '.cache', 'crema-agent');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `cli-${process.pid}-${Date.now()}.mjs`);
  await buildAgentCli(file);
  return {
    file,
    dispose: () => {
      rmSync(file, { force: true });
      rmSync(`${file}.v8cache`, { force: true });
    },
  };
}
