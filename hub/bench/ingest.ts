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
 * them in batched transactions and acknowledges each after the commit. Prints the sustained stored+acked
 * rate (target ≥ 10,000 msg/s on 2 cores) and publish→ack latency at half that load (target p99 ≤ 50 ms).
 *
 *   pnpm bench hub/ingest [-- --devices 1000 --seconds 10 --window 10 --database-url postgres://…]
 */
const { values: args } = parseArgs({
  args: argv(),
  options: {
    devices: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    window: { type: 'string', default: '10' },
    rate: { type: 'string' },
    // Ingest batching knobs, to compare settings; the hub's defaults when absent.
    'max-batch': { type: 'string' },
    'max-delay-ms': { type: 'string' },
    'database-url': { type: 'string' },
  },
});
const count = Number(args.devices);
const seconds = Number(args.seconds);
const window = Number(args.window);
const TARGET_RATE = 10_000;

console.log(
  'machine',
  JSON.stringify(machineInfo({ backend: args['database-url'] ? 'postgres' : 'sqlite' })),
);
const store = await benchStore(count, args['database-url']);
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

try {
  const connected = await load.request(
    { cmd: 'connect', url: gateway.address, devicesFile: file.path },
    'connected',
  );
  console.log(`connected ${connected.devices} device clients in ${connected.ms} ms`);

  const cpu0 = process.cpuUsage();
  const stored0 = await value('crema_ingest_records_stored_total');
  const t0 = performance.now();
  const tp = await load.request({ cmd: 'throughput', seconds, warmupSeconds: 2, window }, 'throughput');
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const rate = Number(tp.rate);
  const storedInPhase = (await value('crema_ingest_records_stored_total')) - stored0;
  const cpuPerRecordUs = (cpu.user + cpu.system) / Math.max(1, storedInPhase);
  console.log(
    `throughput: ${round(rate, 0)} msg/s stored+acked over ${round(Number(tp.seconds))} s ` +
      `(${count} devices, ${window} in flight each; hub CPU ${round(((cpu.user + cpu.system) / 1e6 / wall) * 100, 0)} % of one core)`,
  );
  console.log(
    `hub CPU per stored+acked record: ${round(cpuPerRecordUs, 0)} µs → about ${round(1e6 / cpuPerRecordUs, 0)} msg/s ` +
      'per fully available core (the broker, ingest and SQLite share the hub process)',
  );

  const halfLoad = Math.min(TARGET_RATE / 2, Math.floor(rate / 2));
  const requested = args.rate ? Number(args.rate) : halfLoad;
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
  const before = await batchStats();
  const cpuLat0 = process.cpuUsage();
  const hubLag = monitorEventLoopDelay({ resolution: 1 });
  hubLag.enable();
  const lat = await load.request({ cmd: 'latency', seconds, rate: requested }, 'latency');
  hubLag.disable();
  const cpuLat = process.cpuUsage(cpuLat0);
  const after = await batchStats();
  console.log(
    `latency at ${round(Number(lat.offeredRate), 0)} msg/s (requested ${requested}): publish→durable ack ` +
      `p50 ${round(Number(lat.p50))} ms, p90 ${round(Number(lat.p90))} ms, p99 ${round(Number(lat.p99))} ms, ` +
      `max ${round(Number(lat.max))} ms; ${lat.acked}/${lat.sent} acked`,
  );
  const ms = (ns: number) => round(ns / 1e6);
  console.log(
    `event-loop lag during latency: hub p50 ${ms(hubLag.percentile(50))} ms, p99 ${ms(hubLag.percentile(99))} ms, ` +
      `max ${ms(hubLag.max)} ms; load generator p50 ${round(Number(lat.lagP50))} ms, ` +
      `p99 ${round(Number(lat.lagP99))} ms, max ${round(Number(lat.lagMax))} ms (its CPU ${lat.cpuPct} % of one core)`,
  );
  const latTx = Math.max(1, after.count - before.count);
  console.log(
    `latency phase: ${after.count - before.count} transactions, mean ${round((after.stored - before.stored) / latTx, 1)} ` +
      `records and ${round(((after.sum - before.sum) / latTx) * 1000, 2)} ms each; hub CPU ` +
      `${round(((cpuLat.user + cpuLat.system) / 1e6 / seconds) * 100, 0)} % of one core`,
  );
  await gateway.writer.flush();
  const stored = await value('crema_ingest_records_stored_total');
  const rows = await store.db.kysely
    .selectFrom('received_messages')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  const batches = ((await registry.getSingleMetric('crema_ingest_batch_seconds')?.get())?.values ?? []) as {
    metricName?: string;
    value: number;
  }[];
  const batchCount = batches.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
  const batchSum = batches.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
  console.log(
    `hub: ${stored} records stored (${Number(rows.n)} rows), ${batchCount} transactions, ` +
      `mean ${round(stored / Math.max(1, batchCount), 0)} records and ${round((batchSum / Math.max(1, batchCount)) * 1000, 2)} ms each, ` +
      `rejected ${await value('crema_ingest_rejected_total')}, write failures ${await value('crema_ingest_write_failures_total')}`,
  );
  const p1 = rate >= TARGET_RATE ? 'meets' : 'BELOW';
  const p99 = Number(lat.p99) <= 50 ? 'meets' : 'ABOVE';
  console.log(`P1 throughput ${p1} target (${TARGET_RATE} msg/s); p99 ${p99} target (50 ms)`);
} finally {
  await load.close();
  await gateway.stop();
  await store.dispose();
  file.remove();
}
