import type { DestinationStream } from 'pino';

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const OMIT = new Set(['level', 'time', 'pid', 'hostname', 'ns', 'msg']);

const value = (v: unknown): string => {
  if (typeof v === 'string') return /\s/.test(v) ? JSON.stringify(v) : v;
  if (v && typeof v === 'object' && 'message' in v)
    return JSON.stringify((v as { message: unknown }).message);
  return JSON.stringify(v);
};

/** One pino record (a JSON line) as a person reads it: `12:04:05 WARN  agent:brewer  link down  port=/dev/x`. */
export function readableLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.trimEnd();
  }
  const time = typeof record.time === 'number' ? new Date(record.time).toISOString().slice(11, 19) : '';
  const level = (LEVELS[record.level as number] ?? String(record.level)).padEnd(5);
  const ns = typeof record.ns === 'string' ? `${record.ns}  ` : '';
  const fields = Object.entries(record)
    .filter(([k]) => !OMIT.has(k))
    .map(([k, v]) => `${k}=${value(v)}`)
    .join(' ');
  return `${time} ${level} ${ns}${String(record.msg ?? '')}${fields ? `  ${fields}` : ''}`;
}

/**
 * The fleet's log destination: the hub, agents and simulators log structured records (JSON in production);
 * the fleet is run by a person at a terminal, so each record is printed as one readable line on stderr.
 */
export function readableLog(out: NodeJS.WritableStream = process.stderr): DestinationStream {
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line) out.write(`${readableLine(line)}\n`);
    },
  };
}
