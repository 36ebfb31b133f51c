import { EventEmitter } from 'node:events';

/**
 * One live event as the SSE stream sends it. `merchantId` scopes it: a merchant's users receive only their
 * own; the superadmin receives all.
 */
export interface OpsEvent {
  type: string;
  merchantId: string | null;
  deviceId?: string;
  at: number;
  data: Record<string, unknown>;
}

/** The live-event fan-out of the hub: fleet changes and operator actions, to every SSE subscriber. */
export class OpsEventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(event: OpsEvent): void {
    try {
      this.emitter.emit('event', event);
    } catch {
      // a failing subscriber must not break the action that published
    }
  }

  subscribe(listener: (event: OpsEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  get subscribers(): number {
    return this.emitter.listenerCount('event');
  }
}
