import { type Simulator, startSimulator } from '@crema/firmware-sim';

/** A simulated machine that runs 10× faster than real time, its boiler already hot. */
export function fastSimulator(): Promise<Simulator> {
  return startSimulator({ timeScale: 10, initialTempC: 93, controlPort: false, seed: 7 });
}

/** Polls `cond` in real time until it holds, or fails after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function hostPort(endpoint: string): { host: string; port: number } {
  const [host = '', port = ''] = endpoint.split(':');
  return { host, port: Number(port) };
}
