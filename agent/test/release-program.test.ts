import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Simulator, startSimulator } from '@crema/firmware-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleAgentCli } from './bundle';
import { type AgentChild, exited, postOrder, simConfig, spawnAgent, waitFor, writeConfig } from './support';

/**
 * The compiled agent as a machine runs it: its first start compiles from source and leaves a code cache beside
 * the release, later starts run from that cache, and a damaged cache costs only the speed-up.
 */
describe('a release start with its code cache', () => {
  let sim: Simulator;
  let dir: string;
  let configFile: string;
  let bundle: Awaited<ReturnType<typeof bundleAgentCli>>;

  beforeAll(async () => {
    bundle = await bundleAgentCli();
    dir = mkdtempSync(join(tmpdir(), 'crema-release-program-'));
    sim = await startSimulator({ pty: true, timeScale: 60, initialTempC: 92, seed: 7 });
    configFile = writeConfig(dir, simConfig(sim.endpoints, join(dir, 'data')));
  }, 60_000);

  afterAll(async () => {
    bundle?.dispose();
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts the release, sells one espresso, stops it; returns the ready line's cache status. */
  async function sellOne(): Promise<string> {
    const agent: AgentChild = await spawnAgent(configFile, {}, bundle.file);
    try {
      const res = await postOrder(agent.api);
      expect(res.status).toBe(202);
      const { order } = (await res.json()) as { order: { id: string } };
      await waitFor(
        async () => {
          const body = (await (await fetch(`${agent.api}/orders/${order.id}`)).json()) as {
            order: { state: string };
          };
          return body.order.state === 'completed' ? true : undefined;
        },
        20_000,
        'the espresso to be sold',
      );
    } finally {
      agent.child.kill('SIGTERM');
      expect(await exited(agent.child)).toBe(0);
    }
    return agent.codeCache;
  }

  it('compiles from source once, then sells from the cache; a damaged cache is replaced', async () => {
    const cacheFile = `${bundle.file}.v8cache`;
    expect(await sellOne()).toBe('miss');
    const cache = readFileSync(cacheFile);
    expect(cache.length).toBeGreaterThan(100_000);
    expect(await sellOne()).toBe('hit');

    // Bytes damaged on disk: compiled from source again, and the cache written anew.
    cache[cache.length - 5000] = (cache[cache.length - 5000] ?? 0) ^ 0xff;
    writeFileSync(cacheFile, cache);
    expect(await sellOne()).toBe('miss');
    expect(await sellOne()).toBe('hit');
  }, 60_000);
});
