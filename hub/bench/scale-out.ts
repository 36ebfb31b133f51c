import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { DynsecAdmin } from '../src/mqtt/dynsec';
import { startPrivateMosquitto } from '../src/mqtt/private-mosquitto';
import { type HubProcess, startHubProcess } from '../src/scale-out/hub-process';
import { LoadProcess } from './support/child';
import { argv, type BenchDevice, benchStore, deviceFile, machineInfo, round } from './support/setup';

/**
 * P9: ingest with 1 and with 2 hub processes on PostgreSQL behind Mosquitto (a private one with the dynamic
 * security plugin, every device provisioned in it), ≥ 1,000 device clients publishing telemetry records (QoS 1)
 * and waiting for the hub's ack after commit. Prints, side by side, the sustained stored+acked rate, the
 * publish→ack p99 at a fixed offered rate, the scaling ratio, and the CPU each process used (each hub, Mosquitto,
 * the load generator) and the whole machine, so the per-core figure can be read on a machine with few cores.
 * Each count runs: a 3 s warm-up at the offered rate (the devices' first messages), the offered rate measured,
 * then the saturated rate; and each hub's message, duplicate and commit counts are printed from its /metrics.
 * P1 for one process on PostgreSQL beside SQLite is `pnpm bench hub/ingest --backend both`.
 *
 *   pnpm bench hub/scale-out [--devices 1000] [--seconds 10] [--window 10] [--rate 5000] [--hubs 1,2|1,2,2,1]
 *     [--database-url postgres://…]
 */
const { values: args } = parseArgs({
  args: argv(),
  options: {
    devices: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    window: { type: 'string', default: '10' },
    rate: { type: 'string', default: '5000' },
    hubs: { type: 'string', default: '1,2' },
    'database-url': { type: 'string' },
  },
});
const count = Number(args.devices);
const seconds = Number(args.seconds);
const window = Number(args.window);
const rate = Number(args.rate);
const pgUrl =
  args['database-url'] ?? process.env.CREMA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/crema_test';
const hubCounts = (args.hubs ?? '1,2').split(',').map(Number);

/** CPU seconds (user + system) a process used so far, from /proc (Linux). */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

/** CPU seconds the whole machine spent busy so far (all cores, from /proc/stat). */
function machineBusySeconds(): number {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return (fields.reduce((n, f) => n + f, 0) - idle) / 100;
  } catch {
    return 0;
  }
}

type CpuShare = { name: string; pct: number };

/** Measures `work`: each process's CPU and the machine's, as % of one core over the wall time it took. */
async function withCpu<T>(
  pids: { name: string; pid: number | undefined }[],
  work: () => Promise<T>,
): Promise<{ result: T; cpu: CpuShare[]; machine: number }> {
  const before = pids.map((p) => cpuSeconds(p.pid));
  const machine0 = machineBusySeconds();
  const w0 = performance.now();
  const result = await work();
  const wall = (performance.now() - w0) / 1000;
  const cpu = pids.map((p, i) => ({
    name: p.name,
    pct: Math.round(((cpuSeconds(p.pid) - (before[i] ?? 0)) / wall) * 100),
  }));
  return { result, cpu, machine: Math.round(((machineBusySeconds() - machine0) / wall) * 100) };
}

const hubCores = (cpu: CpuShare[]) =>
  cpu.filter((c) => c.name.startsWith('hub')).reduce((n, c) => n + c.pct, 0) / 100;
const cpuLine = (cpu: CpuShare[], machine: number) =>
  `CPU ${cpu.map((c) => `${c.name} ${c.pct} %`).join(', ')}; machine ${machine} % of ${cpus().length} cores`;

type Run = {
  hubs: number;
  rate: number;
  p99: number;
  p50: number;
  acked: string;
  cpu: CpuShare[];
  machine: number;
  /** At the fixed offered rate: what it was, and the CPU each process and the machine used. */
  offered: number;
  offeredCpu: CpuShare[];
  offeredMachine: number;
};

console.log('machine', JSON.stringify(machineInfo({ bench: 'P9 scale-out', devices: count })));
const store = await benchStore(count, pgUrl);
const mosquitto = await startPrivateMosquitto();
const file = deviceFile(store.devices as BenchDevice[]);
const runs: Run[] = [];
try {
  const admin = new DynsecAdmin({ url: mosquitto.hubUrl, logger: pino({ level: 'error' }) });
  await admin.start();
  const t0 = performance.now();
  for (let i = 0; i < store.devices.length; i += 25) {
    await Promise.all(store.devices.slice(i, i + 25).map((d) => admin.setDevice(d.id, d.secret)));
  }
  await admin.stop();
  console.log(`provisioned ${count} devices in Mosquitto dynsec in ${Math.round(performance.now() - t0)} ms`);
  for (const [index, n] of hubCounts.entries()) runs.push(await measure(n, index));
} finally {
  file.remove();
  await mosquitto.stop();
  await store.dispose();
}

console.log('\n-- P9 side by side');
for (const r of runs) {
  console.log(
    `${r.hubs} hub process(es): saturated ${round(r.rate, 0)} msg/s stored+acked, ${round(perHubCore(r), 0)} msg/s per hub core ` +
      `(${cpuLine(r.cpu, r.machine)}); at ${round(r.offered, 0)} msg/s offered p50 ${round(r.p50)} ms, p99 ${round(r.p99)} ms ` +
      `(${r.acked}), ${round(perHubCoreAtRate(r), 0)} msg/s per hub core (${cpuLine(r.offeredCpu, r.offeredMachine)})`,
  );
}
// Every run of each count (`--hubs 1,2,2,1` interleaves them against a machine whose load drifts): their means.
const mean = (of: Run[], f: (r: Run) => number) => of.reduce((n, r) => n + f(r), 0) / Math.max(1, of.length);
const total = (hubs: number) => {
  const of = runs.filter((r) => r.hubs === hubs);
  return of.length === 0
    ? undefined
    : {
        rate: mean(of, (r) => r.rate),
        core: mean(of, perHubCore),
        coreAtRate: mean(of, perHubCoreAtRate),
        machine: mean(of, (r) => r.machine),
      };
};
const one = total(1);
const two = total(2);
if (one && two) {
  const cores = cpus().length;
  console.log(
    `scaling 1 → 2 hubs: ×${round(two.rate / Math.max(1, one.rate), 2)} saturated throughput, ` +
      `×${round(two.core / Math.max(1, one.core), 2)} per hub core saturated, ` +
      `×${round(two.coreAtRate / Math.max(1, one.coreAtRate), 2)} per hub core at ${rate} msg/s offered (P9: ≥ 0.8)`,
  );
  if (one.machine >= 90 * cores)
    console.log(
      `note: the machine was saturated (${round(one.machine, 0)} % and ${round(two.machine, 0)} % of ${cores} cores) ` +
        'while the hubs, PostgreSQL, Mosquitto and the load generator shared it: the saturated rates are bounded by ' +
        'the machine, and per hub core they count what the hubs got of it. The figure at the offered rate (below ' +
        'what 2 hubs absorb) is what a message costs each way when the hubs keep up; there each hub batches half as ' +
        'many records per commit',
    );
}

/** Stored+acked messages per second for each core the hub processes used (the CPU of the throughput phase). */
function perHubCore(r: Run): number {
  return r.rate / Math.max(0.01, hubCores(r.cpu));
}

/**
 * The same at the fixed offered rate: each message's hub CPU when the hubs keep up, so the figure does not
 * depend on how the machine's cores are shared out once it is saturated.
 */
function perHubCoreAtRate(r: Run): number {
  return r.offered / Math.max(0.01, hubCores(r.offeredCpu));
}

async function measure(hubs: number, index: number): Promise<Run> {
  console.log(`\n-- ${hubs} hub process(es)`);
  const processes: HubProcess[] = [];
  const load = new LoadProcess(join(import.meta.dirname, 'support', 'ingest-load.ts'));
  try {
    for (let i = 0; i < hubs; i++) {
      processes.push(
        await startHubProcess({
          flags: [
            ...[
              '--port',
              '0',
              '--data-dir',
              join(store.dir, `hub-${index}-${hubs}-${i}`),
              '--log-level',
              process.env.CREMA_BENCH_LOG ?? 'error',
            ],
            ...['--database-url', pgUrl, '--database-schema', store.schema ?? 'public'],
            ...['--mqtt-url', mosquitto.hubUrl, '--mqtt-share-group', 'bench'],
          ],
          env: { CREMA_JWT_SECRET: 'b'.repeat(64), CREMA_ADMIN_PASSWORD: 'bench only, never deployed 42' },
          onLog: (line) => process.stderr.write(`[hub ${i + 1}] ${line.slice(0, 400)}\n`),
        }),
      );
    }
    const connected = await load.request(
      { cmd: 'connect', url: mosquitto.url, devicesFile: file.path },
      'connected',
    );
    console.log(`connected ${connected.devices} device clients to Mosquitto in ${connected.ms} ms`);
    const pids = [
      ...processes.map((p, i) => ({ name: `hub ${i + 1}`, pid: p.pid })),
      { name: 'mosquitto', pid: mosquitto.process.pid },
      { name: 'load', pid: load.pid },
    ];
    // A warm-up at the offered rate: the devices' first messages (fleet state rows, online events, JIT) are not
    // what either phase measures. Then the fixed rate, before the saturated phase: measured after it, it would
    // also count the hubs catching up on what that phase left them (the sequencer folding its notes).
    await load.request({ cmd: 'latency', seconds: 3, rate, warmupSeconds: 0 }, 'latency');
    const lat = await withCpu(pids, () =>
      load.request({ cmd: 'latency', seconds, rate, warmupSeconds: 0 }, 'latency'),
    );
    const offered = Number(lat.result.offeredRate);
    console.log(
      `latency at ${round(offered, 0)} msg/s: p50 ${round(Number(lat.result.p50))} ms, ` +
        `p99 ${round(Number(lat.result.p99))} ms, max ${round(Number(lat.result.max))} ms; ` +
        `${lat.result.acked}/${lat.result.sent} acked; ${cpuLine(lat.cpu, lat.machine)}`,
    );
    const tp = await withCpu(pids, () =>
      load.request({ cmd: 'throughput', seconds, warmupSeconds: 2, window }, 'throughput'),
    );
    console.log(
      `throughput: ${round(Number(tp.result.rate), 0)} msg/s stored+acked; ${cpuLine(tp.cpu, tp.machine)}`,
    );
    // Each hub's own count: how the broker shared the messages out, and how large its commits were.
    for (const [i, p] of processes.entries()) {
      const text = await (await fetch(`${p.http}/metrics`)).text();
      const pick = (name: string) =>
        [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce(
          (n, m) => n + Number(m[1]),
          0,
        );
      const batches = pick('crema_ingest_batch_seconds_count');
      const messages = pick('crema_ingest_messages_total');
      console.log(
        `hub ${i + 1}: ${messages} messages, ${pick('crema_ingest_duplicates_total')} duplicates, ` +
          `${batches} commits (${round(messages / Math.max(1, batches), 0)} per commit)`,
      );
    }
    return {
      hubs,
      rate: Number(tp.result.rate),
      p50: Number(lat.result.p50),
      p99: Number(lat.result.p99),
      acked: `${lat.result.acked}/${lat.result.sent} acked`,
      cpu: tp.cpu,
      machine: tp.machine,
      offered,
      offeredCpu: lat.cpu,
      offeredMachine: lat.machine,
    };
  } finally {
    await load.close();
    for (const p of processes) await p.stop();
  }
}
