import type { BrewerError, BrewerFault, BrewerStatus, BrewerVerb } from '@crema/protocol';
import { AgentError } from '../../errors';
import type { IdentityRefusal } from '../line/identity';
import type { Brewer, BrewerEvent, BrewerRequestOptions } from './types';

/**
 * An in-process brewer for unit tests of the logic above the driver. It keeps levels, answers every verb
 * at once, can be told to refuse a verb (`refuse`) or to hang on one until STOP or abort (`hang`), and can
 * report a share of the work done through PROGRESS before that.
 */
export class FakeBrewer implements Brewer {
  connected = true;
  refusal: IdentityRefusal | undefined;
  readonly requests: Array<{ verb: BrewerVerb; args: Record<string, string | number | boolean> }> = [];
  readonly state: BrewerStatus = {
    state: 'idle',
    temp_c: 93,
    bar: 0,
    water_ml: 2000,
    beans_g: 500,
    milk_ml: 1000,
    cups: 50,
    waste_pct: 10,
    cup: false,
    door: 'closed',
    faults: [],
  };
  refuse: Partial<Record<BrewerVerb, { code: BrewerError; fault?: BrewerFault }>> = {};
  hang: { verb: BrewerVerb; progressPct?: number } | undefined;
  private readonly listeners = new Set<(e: BrewerEvent) => void>();
  private stopHang: (() => void) | undefined;

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  onEvent(listener: (event: BrewerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: BrewerEvent): void {
    for (const l of this.listeners) l(event);
  }

  async status(): Promise<BrewerStatus> {
    const values = await this.request('STATUS');
    return { ...this.state, temp_c: Number(values.temp_c) };
  }

  async request(
    verb: BrewerVerb,
    args: Record<string, string | number | boolean> = {},
    options: BrewerRequestOptions = {},
  ): Promise<Record<string, string>> {
    this.requests.push({ verb, args });
    if (!this.connected) throw new AgentError('BREWER_DISCONNECTED', `fake brewer: ${verb} not sent`);
    if (verb === 'STOP') {
      this.stopHang?.();
      return {};
    }
    const refusal = this.refuse[verb];
    if (refusal) {
      throw new AgentError('BREWER_REJECTED', `fake brewer refused ${verb}`, {
        details: { ...refusal, verb },
      });
    }
    if (this.hang?.verb === verb) {
      const pct = this.hang.progressPct;
      if (pct !== undefined) this.emit({ type: 'progress', op: verb, pct });
      await new Promise<never>((_resolve, reject) => {
        this.stopHang = () =>
          reject(new AgentError('BREWER_REJECTED', 'aborted', { details: { code: 'ABORTED', verb } }));
        options.signal?.addEventListener('abort', () => reject(options.signal?.reason), { once: true });
      });
    }
    return this.perform(verb, args);
  }

  private perform(verb: BrewerVerb, args: Record<string, string | number | boolean>): Record<string, string> {
    const s = this.state;
    const n = (k: string) => Number(args[k] ?? 0);
    switch (verb) {
      case 'STATUS':
        return { temp_c: String(s.temp_c) };
      case 'CUP':
        s.cups -= 1;
        s.cup = true;
        return {};
      case 'GRIND':
        s.beans_g -= n('g');
        return { g: String(n('g')) };
      case 'BREW':
      case 'WATER':
        s.water_ml -= n('ml');
        return { ml: String(n('ml')) };
      case 'MILK':
        s.milk_ml -= n('ml');
        return { ml: String(n('ml')) };
      case 'DOSE':
        return { amt: String(n('amt')) };
      case 'HEAT':
        s.temp_c = n('temp_c');
        return { temp_c: String(s.temp_c) };
      case 'DISPENSE':
        s.cup = false;
        return {};
      default:
        return {};
    }
  }
}
