import { type Birth, SemverSchema } from '@crema/protocol';
import agentPackage from '../../package.json' with { type: 'json' };
import { installedConfig } from '../commands';
import type { Brewer } from '../drivers/brewer/types';
import type { Store } from '../store/store';
import { launchedRelease } from '../updates/slots/agent-side';

export const AGENT_VERSION: string = agentPackage.version;

/** The version of the release running (its slot's release.json under the launcher), else the package's. */
function runningAgentVersion(): string {
  const version = launchedRelease()?.running().version;
  return version !== undefined && SemverSchema.safeParse(version).success ? version : AGENT_VERSION;
}

/**
 * What every Crema machine can do: the brewer speaks MILK and WATER, the agent takes cards and free-vend
 * service orders, installs signed firmware and agent updates, and falls back to HTTP when MQTT is unreachable.
 */
const CAPABILITIES: Birth['capabilities'] = [
  'milk',
  'hot_water',
  'card_payment',
  'free_vend',
  'firmware_update',
  'http_fallback',
];

const INFO_TIMEOUT_MS = 2_000;

export type MachineIdentityOptions = {
  model: string;
  store: Pick<Store, 'db' | 'catalog' | 'settings' | 'outbox'>;
  brewer?: Brewer;
  /** Reported until (or unless) the brewer tells its own. */
  fallbackFirmware?: string;
};

/**
 * The machine as `birth` describes it. The firmware version is the brewer's (INFO at start, then every READY
 * after a link restore), else the configured one, else 0.0.0; the catalog and config versions are read from
 * the store at each birth, so a reconnect after an install reports the new ones.
 */
export class MachineIdentity {
  private firmware: string;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly o: MachineIdentityOptions) {
    this.firmware = o.fallbackFirmware ?? '0.0.0';
  }

  get firmwareVersion(): string {
    return this.firmware;
  }

  async start(): Promise<void> {
    const brewer = this.o.brewer;
    if (!brewer) return;
    this.unsubscribe = brewer.onEvent((event) => {
      if (event.type === 'ready') this.useFirmware(event.fw);
    });
    if (!brewer.connected) return;
    try {
      const info = await brewer.request('INFO', {}, { timeoutMs: INFO_TIMEOUT_MS });
      this.useFirmware(info.fw);
    } catch {
      // A brewer that does not answer now still reports itself with READY when its link comes back.
    }
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  describe(): Omit<Birth, 'lastSeq' | 'bootId'> {
    const { catalog } = this.o.store;
    const prices = catalog.prices();
    return {
      model: this.o.model,
      firmwareVersion: this.firmware,
      agentVersion: runningAgentVersion(),
      capabilities: [...CAPABILITIES],
      recipeSetVersion: catalog.recipes().version,
      priceListVersion: prices.installed ? prices.version : 0,
      configVersion: installedConfig({ store: this.o.store }).version,
    };
  }

  private useFirmware(fw: string | undefined): void {
    if (fw !== undefined && SemverSchema.safeParse(fw).success) this.firmware = fw;
  }
}
