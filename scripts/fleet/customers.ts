/**
 * A trickle of customers: every few seconds someone walks up to a random machine, reads its menu and buys an
 * available drink through the machine's local touchscreen API.
 */
import { type Clock, type ClockTimer, systemClock } from '@crema/protocol';

type MenuItem = { id: string; available: boolean; sizes: { id: string; available: boolean }[] };

export type Machine = { deviceId: string; api: string };

export class CustomerTrickle {
  private timer: ClockTimer | undefined;
  private sold = 0;
  private refused = 0;

  constructor(
    private readonly machines: Machine[],
    private readonly intervalMs: number,
    private readonly log: (line: string) => void,
    private readonly clock: Clock = systemClock,
    private readonly random: () => number = Math.random,
  ) {}

  start(): void {
    this.timer = this.clock.setInterval(() => void this.visit(), this.intervalMs);
  }

  stop(): void {
    if (this.timer) this.clock.clearInterval(this.timer);
  }

  get counts(): { sold: number; refused: number } {
    return { sold: this.sold, refused: this.refused };
  }

  private async visit(): Promise<void> {
    const machine = this.machines[Math.floor(this.random() * this.machines.length)];
    if (!machine) return;
    try {
      const menu = (await (await fetch(`${machine.api}/menu`)).json()) as { items: MenuItem[] };
      const item = this.pick(menu.items.filter((i) => i.available));
      const size = this.pick(item?.sizes.filter((s) => s.available) ?? [])?.id;
      if (!item || !size) return;
      const res = await fetch(`${machine.api}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ recipeId: item.id, size, method: 'card' }),
      });
      if (res.ok) {
        this.sold++;
        this.log(`customer bought ${item.id} ${size} at ${machine.deviceId}`);
      } else {
        this.refused++;
      }
    } catch {
      this.refused++;
    }
  }

  private pick<T>(list: T[]): T | undefined {
    return list[Math.floor(this.random() * list.length)];
  }
}
