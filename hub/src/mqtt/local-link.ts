import type { EmbeddedBroker } from './broker';
import { UPLINK_FILTERS } from './link';

/**
 * The hub's link to its own embedded broker, in process: it subscribes to the uplink filters and publishes
 * acks straight into aedes. Same surface as HubLink (the client used with an external broker).
 */
export class LocalLink {
  private active = false;

  constructor(
    private readonly broker: EmbeddedBroker,
    private readonly onMessage: (topic: string, payload: Buffer) => void,
  ) {}

  get connected(): boolean {
    return this.active && this.broker.listening;
  }

  async start(): Promise<void> {
    for (const filter of UPLINK_FILTERS) await this.broker.subscribeLocal(filter, this.onMessage);
    this.active = true;
  }

  publish(topic: string, payload: string, qos: 0 | 1 = 1): Promise<void> {
    return this.broker.publishLocal(topic, payload, qos);
  }

  async stop(): Promise<void> {
    this.active = false;
  }
}
