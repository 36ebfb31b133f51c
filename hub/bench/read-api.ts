/**
 * P7: authenticated device list (50 rows) over real HTTP on loopback.
 *   pnpm exec tsx hub/bench/read-api.ts [--requests 20000] [--concurrency 32] [--devices 500]
 * The hub runs in a child process (SQLite, as `pnpm hub` does by default); this process is the client.
 * BENCH_PROF=1 writes a CPU profile of both processes to /tmp/prof.
 * Target on 2 cores: ≥ 5,000 req/s, p99 ≤ 20 ms.
 */

import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { hashSecret, PASSWORD_PARAMS } from '../src/auth/scrypt';
import { loadHubConfig } from '../src/config/hub-config';
import { Hub } from '../src/hub';

const PASSWORD = 'benchmark passphrase 42';
const LIST_PATH = '/api/v1/devices?limit=50';

async function server(devices: number): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'crema-bench-'));
  const config = loadHubConfig(
    ['--port', '0', '--mqtt-port', '0', '--data-dir', dataDir, '--log-level', 'silent'],
    {
      CREMA_ADMIN_PASSWORD: randomBytes(18).toString('base64url'),
    },
  );
  const hub = new Hub({ config, logger: pino({ level: 'silent' }) });
  const { http } = await hub.start();
  const db = hub.api?.db.kysely;
  if (!db) throw new Error('hub did not expose its store');
  const now = Date.now();
  await db.insertInto('merchants').values({ id: 'bench', name: 'Bench', created_at: now }).execute();
  const rows = Array.from({ length: devices }, (_, i) => ({
    id: `cm-${String(i).padStart(5, '0')}`,
    merchant_id: 'bench',
    location_id: null,
    model: i % 2 ? 'CM-1' : 'CM-2',
    name: `Machine ${i}`,
    credential_hash: 'scrypt$1024$8$1$AAAA$AAAA',
    credential_rotated_at: now,
    revoked_at: null,
    created_at: now + i,
  }));
  for (let i = 0; i < rows.length; i += 200)
    await db
      .insertInto('devices')
      .values(rows.slice(i, i + 200))
      .execute();
  await db
    .insertInto('users')
    .values({
      id: 'bench-viewer',
      merchant_id: 'bench',
      email: 'viewer@bench.test',
      name: null,
      role: 'viewer',
      password_hash: await hashSecret(PASSWORD, PASSWORD_PARAMS),
      password_changed_at: now,
      created_at: now,
      updated_at: now,
    })
    .execute();
  // The peer: a bare node:http server answering the same 50-row body from memory (no auth, no query), run
  // in the same process, so the ratio shows what the hub's work costs on this machine at this moment.
  const login = await fetch(`${http}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'viewer@bench.test', password: PASSWORD }),
  });
  const token = ((await login.json()) as { accessToken: string }).accessToken;
  const body = await (
    await fetch(`${http}${LIST_PATH}`, { headers: { authorization: `Bearer ${token}` } })
  ).text();
  const peer = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
  const peerUrl = `http://127.0.0.1:${(peer.address() as AddressInfo).port}`;
  // CPU time of this process on request: divided by the requests served, it is a cost per request that
  // depends far less on other load on the machine than req/s does.
  process.on('message', (m) => {
    if (m === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send?.({ cpuUs: user + system });
    }
  });
  process.send?.({ http, peer: peerUrl });
  process.on('disconnect', () => {
    peer.close();
    void hub.stop().finally(() => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  });
}

function call(agent: Agent, url: URL, method: string, headers: Record<string, string>, body?: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(url, { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function client(options: { requests: number; concurrency: number; devices: number }): Promise<void> {
  const child: ChildProcess = fork(
    fileURLToPath(import.meta.url),
    ['--server', '--devices', String(options.devices)],
    {
      execArgv: [
        ...process.execArgv,
        ...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []),
      ],
    },
  );
  const { http, peer } = await new Promise<{ http: string; peer: string }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { http: string; peer: string }));
    child.once('exit', (code) => reject(new Error(`hub exited with ${code}`)));
  });
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  try {
    const login = await call(
      agent,
      new URL('/api/v1/auth/login', http),
      'POST',
      { 'content-type': 'application/json' },
      JSON.stringify({ email: 'viewer@bench.test', password: PASSWORD }),
    );
    const token = (JSON.parse(login.body) as { accessToken: string }).accessToken;
    const url = new URL(LIST_PATH, http);
    const headers = { authorization: `Bearer ${token}` };
    const check = await call(agent, url, 'GET', headers);
    const page = JSON.parse(check.body) as { items: unknown[] };
    if (check.status !== 200 || page.items.length !== 50)
      throw new Error(`unexpected answer ${check.status}`);

    const run = async (count: number, latencies?: number[], target = url) => {
      let next = 0;
      let failures = 0;
      const worker = async () => {
        while (next < count) {
          next++;
          const start = process.hrtime.bigint();
          const res = await call(agent, target, 'GET', headers);
          latencies?.push(Number(process.hrtime.bigint() - start) / 1e6);
          if (res.status !== 200) failures++;
        }
      };
      await Promise.all(Array.from({ length: options.concurrency }, worker));
      return failures;
    };
    const measure = async (target: URL) => {
      await run(Math.min(2000, options.requests), undefined, target);
      const latencies: number[] = [];
      const started = process.hrtime.bigint();
      const failures = await run(options.requests, latencies, target);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      latencies.sort((a, b) => a - b);
      const pct = (p: number) =>
        latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
      return {
        count: latencies.length,
        failures,
        reqPerSec: Math.round(latencies.length / seconds),
        p50: pct(50),
        p99: pct(99),
      };
    };
    const load = Number((loadavg()[0] ?? 0).toFixed(2));
    const serverCpu = () =>
      new Promise<number>((resolve) => {
        child.once('message', (m) => resolve((m as { cpuUs: number }).cpuUs));
        child.send('cpu');
      });
    // The client shares the 2 cores with the server: its own CPU per request shows how much it takes away.
    const clientCpu = () => {
      const { user, system } = process.cpuUsage();
      return user + system;
    };
    const measureWithCpu = async (target: URL) => {
      const before = await serverCpu();
      const clientBefore = clientCpu();
      const run = await measure(target);
      const served = run.count + Math.min(2000, options.requests);
      const cpuUsPerRequest = ((await serverCpu()) - before) / served;
      const clientCpuUsPerRequest = (clientCpu() - clientBefore) / served;
      return {
        ...run,
        cpuUsPerRequest: Math.round(cpuUsPerRequest),
        clientCpuUsPerRequest: Math.round(clientCpuUsPerRequest),
      };
    };
    const hub = await measureWithCpu(url);
    const peerRun = await measureWithCpu(new URL(LIST_PATH, peer));
    const ms = (v: number) => Number(v.toFixed(2));
    const machine = {
      cpus: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      load1m: load,
    };
    const result = {
      bench: 'P7 hub read API: GET /api/v1/devices?limit=50 (authenticated, SQLite)',
      requests: hub.count,
      failures: hub.failures,
      concurrency: options.concurrency,
      reqPerSec: hub.reqPerSec,
      p50Ms: ms(hub.p50),
      p99Ms: ms(hub.p99),
      serverCpuUsPerRequest: hub.cpuUsPerRequest,
      clientCpuUsPerRequest: hub.clientCpuUsPerRequest,
      projectedReqPerSecPerCore: Math.round(1e6 / hub.cpuUsPerRequest),
      target: { reqPerSec: 5000, p99Ms: 20 },
      peer: {
        what: 'bare node:http serving the same body from memory',
        reqPerSec: peerRun.reqPerSec,
        p50Ms: ms(peerRun.p50),
        p99Ms: ms(peerRun.p99),
        serverCpuUsPerRequest: peerRun.cpuUsPerRequest,
        clientCpuUsPerRequest: peerRun.clientCpuUsPerRequest,
      },
      hubToPeerRatio: Number((hub.reqPerSec / peerRun.reqPerSec).toFixed(2)),
      machine,
    };
    console.log(
      `P7 read API: ${result.reqPerSec} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms ` +
        `(${result.requests} requests, ${result.failures} failed, concurrency ${options.concurrency}); ` +
        `server CPU ${hub.cpuUsPerRequest} µs/request (≈ ${result.projectedReqPerSecPerCore} req/s per free core), ` +
        `client CPU ${hub.clientCpuUsPerRequest} µs/request; ` +
        `peer (bare node:http, same body): ${peerRun.reqPerSec} req/s, p99 ${result.peer.p99Ms} ms, ` +
        `${peerRun.cpuUsPerRequest} µs CPU/request (client ${peerRun.clientCpuUsPerRequest} µs); ` +
        `hub/peer ${result.hubToPeerRatio}; machine ${machine.cpus} × ${machine.cpu}, node ${machine.node}, ` +
        `load avg ${machine.load1m}`,
    );
    console.log(JSON.stringify(result));
  } finally {
    agent.destroy();
    child.disconnect();
  }
}

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    server: { type: 'boolean', default: false },
    requests: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '32' },
    devices: { type: 'string', default: '500' },
  },
});
if (values.server) {
  await server(Number(values.devices));
} else {
  await client({
    requests: Number(values.requests),
    concurrency: Number(values.concurrency),
    devices: Number(values.devices),
  });
}
