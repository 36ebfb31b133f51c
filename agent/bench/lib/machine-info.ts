import { cpus, loadavg, platform, release, totalmem } from 'node:os';

/** The machine a benchmark ran on, printed beside its figures. */
export function machineInfo(): string {
  const cpu = cpus();
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  return `${cpu[0]?.model ?? 'cpu'} × ${cpu.length}, ${Math.round(totalmem() / 1024 ** 3)} GB, ${platform()} ${release()}, node ${process.version}, load average ${load}`;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

export const ms = (n: number) => `${n.toFixed(2)} ms`;
