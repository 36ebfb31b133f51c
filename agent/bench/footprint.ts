/**
 * P5: agent footprint. Spawns the agent CLI compiled to one ES module (esbuild, as it would ship; no TypeScript
 * loader in the process) against a simulated machine, and measures start → ready (spawn to the ready line, and the agent's own figure from process start), idle CPU
 * over a quiet period, and RSS idle and after a run of orders.
 * Run: pnpm bench agent/footprint   (CREMA_BENCH_IDLE_S=30)
 */
import { execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator } from '@crema/firmware-sim';
import { bundleAgentCli } from '../test/bundle';
import { exited, simConfig, spawnAgent, writeConfig } from '../test/support';
import { machineInfo } from './lib/machine-info';

const IDLE_S = Number(process.env.CREMA_BENCH_IDLE_S ?? 30);
const ORDERS = 20;
const CLK_TCK = Number(execSync('getconf CLK_TCK').toString().trim()) || 100;

const rssMb = (pid: number) => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(line?.[1] ?? 0) / 1024;
};
const cpuTicks = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(fields[11]) + Number(fields[12]); // utime + stime
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'crema-bench-footprint-'));
const sim = await startSimulator({ pty: false, timeScale: 100, initialTempC: 92, seed: 2 });
const file = writeConfig(dir, simConfig(sim.endpoints, join(dir, 'data')));

const bundle = await bundleAgentCli();
console.log(`machine: ${machineInfo()}`);
const readies: { spawnMs: number; startupMs: number }[] = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  const a = await spawnAgent(file, {}, bundle.file);
  const spawnMs = performance.now() - t0;
  readies.push({ spawnMs, startupMs: a.startupMs });
  a.child.kill('SIGTERM');
  await exited(a.child);
}

/** Idle CPU and RSS of one agent process started with the given NODE_OPTIONS, then RSS after some orders. */
async function measure(nodeOptions: string) {
  const label = nodeOptions ? `NODE_OPTIONS=${nodeOptions}` : 'default node flags';
  // A board starts from its code cache except the first time a release runs with its flags (V8's flags are
  // part of the cache's key): that first start is measured too, then the one that runs as a board does.
  const first = await spawnAgent(file, { NODE_OPTIONS: nodeOptions }, bundle.file);
  await sleep(5_000);
  const firstRss = rssMb(first.child.pid!);
  first.child.kill('SIGTERM');
  await exited(first.child);
  console.log(
    `${label}: first start (code cache: ${first.codeCache}): RSS 5 s after ready ${firstRss.toFixed(1)} MB`,
  );
  const t0 = performance.now();
  const agent = await spawnAgent(file, { NODE_OPTIONS: nodeOptions }, bundle.file);
  const readyMs = performance.now() - t0;
  const pid = agent.child.pid!;
  await sleep(5_000);
  const rssSamples: number[] = [];
  const c0 = cpuTicks(pid);
  const w0 = performance.now();
  for (let i = 0; i < IDLE_S; i++) {
    await sleep(1000);
    rssSamples.push(rssMb(pid));
  }
  const idleCpuPct = (((cpuTicks(pid) - c0) / CLK_TCK) * 1000 * 100) / (performance.now() - w0);
  for (let i = 0; i < ORDERS; i++) {
    const res = await fetch(`${agent.api}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ recipeId: 'latte', size: 'M' }),
    });
    const { order } = (await res.json()) as { order?: { id: string } };
    for (let k = 0; order && k < 200; k++) {
      const got = (await (await fetch(`${agent.api}/orders/${order.id}`)).json()) as {
        order: { state: string };
      };
      if (got.order.state === 'completed' || got.order.state === 'failed') break;
      await sleep(50);
    }
  }
  const rssAfterOrders = rssMb(pid);
  agent.child.kill('SIGTERM');
  const code = await exited(agent.child);
  console.log(
    `${label}: ready in ${readyMs.toFixed(0)} ms (code cache: ${agent.codeCache}); idle CPU over ${IDLE_S} s ${idleCpuPct.toFixed(2)} % of one core (target ≤ 2 %)`,
  );
  console.log(
    `${label}: RSS idle mean ${(rssSamples.reduce((x, y) => x + y, 0) / rssSamples.length).toFixed(1)} MB, max ${Math.max(...rssSamples).toFixed(1)} MB; after ${ORDERS} orders ${rssAfterOrders.toFixed(1)} MB (target ≤ 80 MB); clean stop exit ${code}`,
  );
}

const sorted = readies.map((r) => r.spawnMs).sort((a, b) => a - b);
const own = readies.map((r) => r.startupMs).sort((a, b) => a - b);
console.log(
  `start → ready, 5 starts: spawn to ready line (node + agent) median ${sorted[2]?.toFixed(0)} ms, max ${sorted[4]?.toFixed(0)} ms; ` +
    `process start to ready (agent's own figure) median ${own[2]} ms   target ≤ 1000 ms`,
);
// The device profile: a 1 MB young generation suits a 24/7 process with a small, steady heap.
await measure('');
await measure('--max-semi-space-size=1');
bundle.dispose();
await sim.stop();
rmSync(dir, { recursive: true, force: true });
