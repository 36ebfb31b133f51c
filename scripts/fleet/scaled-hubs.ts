import { join } from 'node:path';
import {
  type HubAddresses,
  type HubProcess,
  type PrivateMosquitto,
  startHubProcess,
  startPrivateMosquitto,
} from '@crema/hub';
import { clusterSecrets } from './cluster-secrets';

/**
 * N hub processes on one PostgreSQL behind one broker, as hub/README.md "Scaling out" describes: a private
 * Mosquitto with the dynamic security plugin (or the operator's broker), then the hubs one after the other (the
 * first applies the migrations), all with the same JWT secret, signing key and key-encryption key (kept in the data directory across
 * launches, see cluster-secrets.ts) and one shared-subscription group.
 * Machines connect to the broker; the admin API of any hub serves the whole fleet.
 */
export async function startScaledHubs(options: {
  hubs: number;
  databaseUrl: string;
  databaseSchema?: string;
  mqttUrl?: string;
  dynsec: boolean;
  dataDir: string;
  port: number;
  admin: { email: string; password: string };
  say: (line: string) => void;
}): Promise<{ addresses: HubAddresses; describe(): string[]; stop(): Promise<void> }> {
  let mosquitto: PrivateMosquitto | undefined;
  const hubs: HubProcess[] = [];
  const stop = async () => {
    await Promise.allSettled(hubs.map((h) => h.stop()));
    await mosquitto?.stop();
  };
  try {
    if (!options.mqttUrl) {
      mosquitto = await startPrivateMosquitto();
      options.say(`private Mosquitto with dynamic security on ${mosquitto.url} (${mosquitto.dir})`);
    }
    const hubUrl = mosquitto?.hubUrl ?? options.mqttUrl ?? '';
    const env = {
      ...clusterSecrets(options.dataDir),
      CREMA_ADMIN_EMAIL: options.admin.email,
      CREMA_ADMIN_PASSWORD: options.admin.password,
    };
    for (let i = 1; i <= options.hubs; i++) {
      const port = options.port === 0 ? 0 : options.port + i - 1;
      const flags = ['--port', String(port), '--data-dir', join(options.dataDir, `hub-${i}`)];
      flags.push('--database-url', options.databaseUrl, '--mqtt-url', hubUrl, '--mqtt-share-group', 'crema');
      if (options.databaseSchema) flags.push('--database-schema', options.databaseSchema);
      if (options.dynsec) flags.push('--mqtt-dynsec', 'true');
      flags.push('--log-level', process.env.CREMA_LOG_LEVEL ?? 'warn');
      hubs.push(
        await startHubProcess({ flags, env, onLog: (line) => process.stderr.write(`[hub-${i}] ${line}\n`) }),
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const first = hubs[0] as HubProcess;
  return {
    addresses: { http: first.http, mqtt: first.mqtt, docs: `${first.http}/api/docs` },
    describe: () => hubs.map((h, i) => `  hub ${i + 1}       ${h.http} (pid ${h.pid})`),
    stop,
  };
}
