import { useState } from 'preact/hooks';
import { api, must } from '../api/client';
import { ErrorNote } from '../ui/widgets';

/**
 * Sends a `set_prices` command: one line per price, "recipe size amount" (e.g. `espresso M 2.50`). The
 * version is one above what the machine last reported, as the protocol requires a newer list.
 */
export function SetPrices(props: { deviceId: string; currentVersion: number | null; onDone: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  if (!open)
    return (
      <button type="button" onClick={() => setOpen(true)}>
        Set prices…
      </button>
    );
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    try {
      const items = String(form.get('lines') ?? '')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .map((line, i) => {
          const [recipeId, size, amount] = line.split(/\s+/);
          const cents = Math.round(Number(amount) * 100);
          if (!recipeId || !size || !Number.isFinite(cents) || cents < 0)
            throw new Error(`line ${i + 1}: expected "recipe size amount", e.g. espresso M 2.50`);
          return { recipeId, size, amount: cents };
        });
      const prices = {
        version: (props.currentVersion ?? 0) + 1,
        currency: String(form.get('currency')),
        items,
      };
      must(
        await api.POST('/api/v1/commands', {
          body: { kind: 'set_prices', params: { prices }, target: { deviceIds: [props.deviceId] } },
        }),
      );
      setError(null);
      setOpen(false);
      props.onDone();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form onSubmit={submit} class="refund" aria-labelledby="prices-title">
      <h3 id="prices-title">Set prices</h3>
      <label class="field">
        <span>Currency</span>
        <input name="currency" defaultValue="EUR" pattern="[A-Z]{3}" required />
      </label>
      <label class="field">
        <span>Prices, one per line: recipe size amount</span>
        <textarea name="lines" rows={4} required placeholder="espresso M 2.50" />
      </label>
      <ErrorNote error={error} />
      <div class="actions">
        <button type="submit" class="primary">
          Send
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
