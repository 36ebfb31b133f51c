import {
  BrewerDialect,
  type BrewerError,
  BrewerEventArgs,
  type BrewerFault,
  type BrewerStatus,
  BrewerStatusSchema,
  type BrewerVerb,
  type Frame,
  IDEMPOTENT_BREWER_VERBS,
} from '@crema/protocol';
import { AgentError } from '../../errors';
import { LineClient } from '../line/client';
import { LineDevice, type LineDeviceOptions } from '../line/device';
import { type DeviceIdentity, type IdentityMemory, identityFromInfo } from '../line/identity';
import type { Brewer, BrewerEvent, BrewerRequestOptions } from './types';

export type SerialBrewerOptions = LineDeviceOptions & {
  retries?: number;
  /** The brewer this machine was set up with; otherwise the first one that answers INFO is pinned. */
  identity?: DeviceIdentity;
  /** Keeps the pinned brewer across agent restarts (used when `identity` is not given). */
  memory?: IdentityMemory;
};

/** What an ERR reply from the brewer carried, in AgentError `details`. */
export type BrewerRejection = { code: BrewerError; fault?: BrewerFault; msg?: string; verb: BrewerVerb };

/**
 * The brewer controller over its line protocol (serial device or TCP gateway). Every (re)connect starts with
 * INFO; a brewer with another serial or model than the first one seen is refused.
 */
export class SerialBrewer extends LineDevice implements Brewer {
  private readonly listeners = new Set<(event: BrewerEvent) => void>();

  constructor(options: SerialBrewerOptions) {
    super(
      new LineClient({
        name: 'brewer',
        transport: options.transport,
        dialect: BrewerDialect,
        clock: options.clock,
        logger: options.logger.child({ ns: 'agent:brewer' }),
        idempotentVerbs: IDEMPOTENT_BREWER_VERBS,
        errors: { timeout: 'BREWER_TIMEOUT', disconnected: 'BREWER_DISCONNECTED' },
        requestTimeoutMs: options.requestTimeoutMs ?? 2000,
        retries: options.retries,
        backoff: options.backoff,
        watchdog: options.watchdog,
        identity: {
          verb: 'INFO',
          parse: identityFromInfo,
          expected: options.identity ?? options.memory?.load(),
          onPinned: (id) => options.memory?.save(id),
        },
      }),
    );
    this.client.onEvent((frame) => {
      const event = toEvent(frame);
      if (event) this.emit(event);
    });
    this.client.onLink((state) => this.emit({ type: 'link', state }));
  }

  async request(
    verb: BrewerVerb,
    args: Record<string, string | number | boolean> = {},
    options: BrewerRequestOptions = {},
  ): Promise<Record<string, string>> {
    const reply = await this.client.request(verb, args, options);
    if (reply.verb === 'OK') return reply.args;
    const rejection = { ...(reply.args as Omit<BrewerRejection, 'verb'>), verb };
    const fault = rejection.fault ? ` fault=${rejection.fault}` : '';
    throw new AgentError('BREWER_REJECTED', `brewer refused ${verb}: ${rejection.code}${fault}`, {
      details: rejection,
    });
  }

  async status(): Promise<BrewerStatus> {
    const values = await this.request('STATUS');
    const parsed = BrewerStatusSchema.safeParse(values);
    if (!parsed.success) {
      throw new AgentError('VALIDATION_FAILED', `brewer STATUS reply is malformed: ${parsed.error.message}`);
    }
    return parsed.data;
  }

  onEvent(listener: (event: BrewerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: BrewerEvent): void {
    for (const l of this.listeners) l(event);
  }
}

/** Event arguments were validated by the dialect already; parsing again only recovers their types. */
function toEvent(frame: Frame): BrewerEvent | undefined {
  const E = BrewerEventArgs;
  switch (frame.verb) {
    case 'READY':
      return { type: 'ready', ...E.READY.parse(frame.args) };
    case 'PROGRESS':
      return { type: 'progress', ...E.PROGRESS.parse(frame.args) };
    case 'FAULT':
      return { type: 'fault', ...E.FAULT.parse(frame.args) };
    case 'CLEAR':
      return { type: 'clear', ...E.CLEAR.parse(frame.args) };
    case 'CUP':
      return { type: 'cup', ...E.CUP.parse(frame.args) };
    case 'DOOR':
      return { type: 'door', ...E.DOOR.parse(frame.args) };
    default:
      return undefined;
  }
}
