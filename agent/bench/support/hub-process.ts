/**
 * The hub side of the drain benchmark in its own process (as it is in production: another machine), so the
 * agent and the hub do not share one core. Started by backlog-drain.ts with `fork`; talks over IPC.
 */
import { HubDouble } from '../../test/helpers/hub-double';

export type ToHub =
  | { type: 'credential'; deviceId: string; secret: string }
  | { type: 'watch'; id: string }
  | { type: 'stop' };
export type FromHub =
  | { type: 'ready'; url: string }
  | { type: 'stopped'; watched: [string, number | undefined][]; redelivered: number; cpuSeconds: number };

const dbFile = process.argv[2];
if (!dbFile || !process.send) throw new Error('usage: fork(hub-process.ts, [dbFile])');
const send = (m: FromHub) => process.send?.(m);
const hub = new HubDouble(dbFile);
const cpu0 = process.cpuUsage();
await hub.start(0);
process.on('message', (m: ToHub) => {
  if (m.type === 'credential') hub.credentials.set(m.deviceId, m.secret);
  else if (m.type === 'watch') hub.watched.set(m.id, undefined);
  else if (m.type === 'stop') {
    void hub.stop().then(() => {
      let redelivered = 0;
      for (const n of hub.deliveries.values()) if (n > 1) redelivered += 1;
      const cpu = process.cpuUsage(cpu0);
      hub.close();
      send({
        type: 'stopped',
        watched: [...hub.watched],
        redelivered,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
      });
      process.disconnect();
    });
  }
});
send({ type: 'ready', url: hub.url });
