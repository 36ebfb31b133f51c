import { type Simulator, startSimulator } from '@crema/firmware-sim';

/** A simulated machine that runs 10× faster than real time, its boiler already hot. */
export function fastSimulator(): Promise<Simulator> {
  return startSimulator({ timeScale: 10, initialTempC: 93, controlPort: false, seed: 7 });
}

export { waitFor } from '@crema/protocol/testing';

export function hostPort(endpoint: string): { host: string; port: number } {
  const [host = '', port = ''] = endpoint.split(':');
  return { host, port: Number(port) };
}
