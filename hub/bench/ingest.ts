import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { LoadProcess } from './support/child';
import {
  argv,
  type BenchDevice,
  benchStore,
  deviceFile,
  machineInfo,
  round,
  startBenchGateway,
} from './support/setup';

/**
 * P1: ≥ 1,000 connected devices publish telemetry records (QoS 1); the hub validates, de-duplicates, stores
 * them in batched transactions and acknowledges each after the commit. Prints, for SQLite (synchronous=FULL,
 * commits on the writer thread) and PostgreSQL: publish→ack latency at 5,000 msg/s (target p99 ≤ 50 ms) with the
 * hub's event-loop lag beside it (target p99 ≤ 10 ms), in the steady state (after 3 s at that rate, not
 * counted); then the sustained stored+acked rate when saturated (target ≥ 20,000 msg/s on 2 cores); then, for
 * information, the latency at 5,000 msg/s again straight after saturation, while the store works off its backlog.
 *
 *   pnpm bench hub/ingest [--backend sqlite|postgres|both] [--devices 1000] [--seconds 10] [--window 10]
 *     [--rate 5000] [--database-url postgres://…] [--max-batch N] [--max-delay-ms N]
 * PostgreSQL runs in a fresh schema of `--database-url` (default $CREMA_TEST_PG_URL or the local crema_test
 * database), dropped afterwards.
 */
const { values: args } = parseArgs({
  args: argv(),
  options: {
    backend: { type: 'string', default: 'both' },
    devices: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    window: { type: 'string', default: '10' },
    rate: { type: 'string', default: '5000' },
    // Ingest batching knobs, to compare settings; the hub's defaults when absent.
    'max-batch': { type: 'string' },
    'max-delay-ms': { type: 'string' },
    'database-url': { type: 'string' },
  },
});
const count = Number(args.devices);
const seconds = Number(args.seconds);
const window = Number(args.window);
const TARGET_RATE = 20_000;
const pgUrl =
  args['database-url'] ?? process.env.CREMA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/crema_test';

type Summary = { backend: string; rate: number; p99: number; lagP99: number; cpuUs: number };

async function run(backend: 'sqlite' | 'postgres'): Promise<Summary> {
  console.log(`\n-- ${backend}`);
  console.log('machine', JSON.stringify(machineInfo({ backend })));
  const store = await benchStore(count, backend === 'postgres' ? pgUrl : undefined);
  const { gateway, registry } = await startBenchGateway(store.db, {
    ingest: {
      ...(args['max-batch'] ? { maxBatch: Number(args['max-batch']) } : {}),
      ...(args['max-delay-ms'] ? { maxDelayMs: Number(args['max-delay-ms']) } : {}),
    },
  });
  const file = deviceFile(store.devices as BenchDevice[]);
  const load = new LoadProcess(join(import.meta.dirname, 'support', 'ingest-load.ts'));
  const value = async (name: string) =>
    ((await registry.getSingleMetric(name)?.get())?.values ?? []).reduce((s, v) => s + v.value, 0);
  const batchStats = async () => {
    const values = ((await registry.getSingleMetric('crema_ingest_batch_seconds')?.get())?.values ?? []) as {
      metricName?: string;
      value: number;
    }[];
    const pick = (suffix: string) => values.find((v) => v.metricName?.endsWith(suffix))?.value ?? 0;
    return {
      count: pick('_count'),
      sum: pick('_sum'),
      stored: await value('crema_ingest_records_stored_total'),
    };
  };
  const ms = (ns: number) => round(ns / 1e6);

  /** One latency run of the load generator, printed with the hub's event-loop lag and batches beside it. */
  const latencyPhase = async (
    label: string,
    phase: { seconds: number; rate: number; warmupSeconds: number },
  ): Promise<{ p99: number; lagP99: number }> => {
    const before = await batchStats();
    const cpuLat0 = process.cpuUsage();
    const hubLag = monitorEventLoopDelay({ resolution: 1 });
    // The lag is watched from the start of the counted part only: the warm-up is the generator's.
    const enableAt = setTimeout(() => hubLag.enable(), phase.warmupSeconds * 1000);
    const lat = await load.request({ cmd: 'latency', ...phase }, 'latency');
    clearTimeout(enableAt);
    hubLag.disable();
    const cpuLat = process.cpuUsage(cpuLat0);
    const after = await batchStats();
    console.log(
      `${label} ${round(Number(lat.offeredRate), 0)} msg/s (requested ${phase.rate}): publish→durable ack ` +
        `p50 ${round(Number(lat.p50))} ms, p90 ${round(Number(lat.p90))} ms, p99 ${round(Number(lat.p99))} ms, ` +
        `max ${round(Number(lat.max))} ms; ${lat.acked}/${lat.sent} acked`,
    );
    console.log(
      `  event-loop lag: hub p50 ${ms(hubLag.percentile(50))} ms, p99 ${ms(hubLag.percentile(99))} ms, ` +
        `max ${ms(hubLag.max)} ms; load generator p50 ${round(Number(lat.lagP50))} ms, ` +
        `p99 ${round(Number(lat.lagP99))} ms, max ${round(Number(lat.lagMax))} ms (its CPU ${lat.cpuPct} % of one core)`,
    );
    const latTx = Math.max(1, after.count - before.count);
    const wallS = phase.seconds + phase.warmupSeconds;
    console.log(
      `  ${after.count - before.count} transactions, mean ${round((after.stored - before.stored) / latTx, 1)} ` +
        `records and ${round(((after.sum - before.sum) / latTx) * 1000, 2)} ms each (queue → commit reported); hub CPU ` +
        `${round(((cpuLat.user + cpuLat.system) / 1e6 / wallS) * 100, 0)} % of one core`,
    );
    return { p99: Number(lat.p99), lagP99: hubLag.percentile(99) / 1e6 };
  };

  try {
    const connected = await load.request(
      { cmd: 'connect', url: gateway.address, devicesFile: file.path },
      'connected',
    );
    console.log(`connected ${connected.devices} device clients in ${connected.ms} ms`);

    const requested = Number(args.rate);
    // P1's latency: the hub in its steady state at 5,000 msg/s (3 s at that rate first, not counted).
    const steady = await latencyPhase(`latency at`, { seconds, rate: requested, warmupSeconds: 3 });

    const cpu0 = process.cpuUsage();
    const stored0 = await value('crema_ingest_records_stored_total');
    const tpLag = monitorEventLoopDelay({ resolution: 1 });
    tpLag.enable();
    const t0 = performance.now();
    const tp = await load.request({ cmd: 'throughput', seconds, warmupSeconds: 2, window }, 'throughput');
    const wall = (performance.now() - t0) / 1000;
    tpLag.disable();
    const cpu = process.cpuUsage(cpu0);
    const rate = Number(tp.rate);
    const storedInPhase = (await value('crema_ingest_records_stored_total')) - stored0;
    const cpuPerRecordUs = (cpu.user + cpu.system) / Math.max(1, storedInPhase);
    console.log(
      `throughput: ${round(rate, 0)} msg/s stored+acked over ${round(Number(tp.seconds))} s ` +
        `(${count} devices, ${window} in flight each; hub CPU ${round(((cpu.user + cpu.system) / 1e6 / wall) * 100, 0)} % of one core, ` +
        `event-loop lag p99 ${ms(tpLag.percentile(99))} ms, max ${ms(tpLag.max)} ms)`,
    );
    console.log(
      `hub CPU per stored+acked record: ${round(cpuPerRecordUs, 0)} µs, all threads (broker, ingest, commits)`,
    );
    // For information: the same rate straight after saturation, while the store catches up on its backlog
    // (the WAL checkpoint of the throughput phase's records on SQLite).
    await latencyPhase('right after the throughput phase, latency at', {
      seconds,
      rate: requested,
      warmupSeconds: 0,
    });
    await gateway.writer.flush();
    const stored = await value('crema_ingest_records_stored_total');
    const rows = await store.db.kysely
      .selectFrom('received_messages')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const total = await batchStats();
    console.log(
      `hub: ${stored} records stored (${Number(rows.n)} rows), ${total.count} transactions, ` +
        `mean ${round(stored / Math.max(1, total.count), 0)} records and ${round((total.sum / Math.max(1, total.count)) * 1000, 2)} ms each, ` +
        `rejected ${await value('crema_ingest_rejected_total')}, write failures ${await value('crema_ingest_write_failures_total')}`,
    );
    const summary = { backend, rate, p99: steady.p99, lagP99: steady.lagP99, cpuUs: cpuPerRecordUs };
    console.log(verdict(summary));
    return summary;
  } finally {
    await load.close();
    await gateway.stop();
    await store.dispose();
    file.remove();
  }
}

function verdict(s: Summary): string {
  const ok = (good: boolean) => (good ? 'meets' : 'MISSES');
  return (
    `P1 ${s.backend}: throughput ${round(s.rate, 0)} msg/s ${ok(s.rate >= TARGET_RATE)} ≥ ${TARGET_RATE}; ` +
    `p99 ${round(s.p99)} ms ${ok(s.p99 <= 50)} ≤ 50 ms; hub loop lag p99 ${round(s.lagP99)} ms ${ok(s.lagP99 <= 10)} ≤ 10 ms`
  );
}

const backends = args.backend === 'both' ? (['sqlite', 'postgres'] as const) : [args.backend];
const summaries: Summary[] = [];
for (const backend of backends) {
  if (backend !== 'sqlite' && backend !== 'postgres') throw new Error(`unknown --backend ${backend}`);
  summaries.push(await run(backend));
}
console.log('\n-- summary');
for (const s of summaries) console.log(verdict(s));
