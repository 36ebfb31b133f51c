import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';
import type { BenchDevice } from './setup';

/**
 * Load generator of the artifact-download benchmark: every device downloads the same file at once over its
 * own connection (HTTP Basic with its own credential, as machines do), from the hub or from a plain static
 * server. Counts bytes and checks that each download has the expected length; the first one of a round is
 * also hashed. JSON lines in on stdin, out on stdout.
 */
type In =
  | {
      cmd: 'round';
      url: string;
      devicesFile?: string;
      count: number;
      size: number;
      sha256: string;
      range?: string;
    }
  | { cmd: 'exit' };

const report = (e: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(e)}\n`);

function download(url: string, agent: Agent, auth: string | undefined, range: string | undefined) {
  return new Promise<{ bytes: number; status: number; hash?: string }>((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (auth) headers.authorization = `Basic ${auth}`;
    if (range) headers.range = range;
    const req = request(url, { agent, headers }, (res) => {
      let bytes = 0;
      const hash = createHash('sha256');
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        hash.update(chunk);
      });
      res.on('end', () => resolve({ bytes, status: res.statusCode ?? 0, hash: hash.digest('hex') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function round(input: Extract<In, { cmd: 'round' }>) {
  const devices: BenchDevice[] = input.devicesFile
    ? (JSON.parse(readFileSync(input.devicesFile, 'utf8')) as BenchDevice[])
    : [];
  const agent = new Agent({ keepAlive: true, maxSockets: input.count });
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: input.count }, (_, i) => {
      const d = devices[i % Math.max(devices.length, 1)];
      const auth = d ? Buffer.from(`${d.id}:${d.secret}`).toString('base64') : undefined;
      return download(input.url, agent, auth, input.range);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  const bytes = results.reduce((s, r) => s + r.bytes, 0);
  const bad = results.filter((r) => r.status >= 300 || (!input.range && r.bytes !== input.size)).length;
  const wrongHash = input.range ? 0 : results.filter((r) => r.hash !== input.sha256).length;
  report({
    event: 'round',
    seconds,
    bytes,
    bad,
    wrongHash,
    statuses: [...new Set(results.map((r) => r.status))],
  });
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const input = JSON.parse(line) as In;
  if (input.cmd === 'round') await round(input);
  else {
    report({ event: 'bye' });
    process.exit(0);
  }
}
