import { useState } from 'preact/hooks';
import { api, must } from '../api/client';
import { session } from '../api/session';
import { money, when } from '../ui/format';
import { useQuery } from '../ui/hooks';
import { Badge, ErrorNote, Page, Table } from '../ui/widgets';

export function OrderDetail(props: { deviceId: string; orderId: string }) {
  const path = { deviceId: props.deviceId, orderId: props.orderId };
  const q = useQuery(
    async () => must(await api.GET('/api/v1/orders/{deviceId}/{orderId}', { params: { path } })),
    [props.deviceId, props.orderId],
  );
  const o = q.data;
  return (
    <Page title={`Order ${props.orderId}`}>
      <p>
        <a href="#/orders">← All orders</a>
      </p>
      <ErrorNote error={q.error} />
      {o ? (
        <div class="grid2">
          <section class="card">
            <h2>Order</h2>
            <dl class="facts">
              <dt>Machine</dt>
              <dd>
                <a href={`#/machines/${o.deviceId}`}>{o.deviceId}</a>
              </dd>
              <dt>Status</dt>
              <dd>
                <Badge value={o.status} />
              </dd>
              <dt>Amount</dt>
              <dd>{money(o.amount, o.currency)}</dd>
              <dt>Captured</dt>
              <dd>{money(o.capturedAmount, o.currency)}</dd>
              <dt>Refunded</dt>
              <dd data-testid="refunded">{money(o.refundedAmount, o.currency)}</dd>
              <dt>Items</dt>
              <dd>{o.items.map((i) => `${i.recipeId} (${i.size})`).join(', ')}</dd>
              <dt>Created</dt>
              <dd>{when(o.createdAt)}</dd>
            </dl>
            {session.can('order:refund') && o.capturedAmount > o.refundedAmount ? (
              <RefundForm
                deviceId={o.deviceId}
                orderId={o.orderId}
                max={o.capturedAmount - o.refundedAmount}
                currency={o.currency}
                onDone={q.reload}
              />
            ) : null}
          </section>
          <section class="card">
            <h2>Payment events</h2>
            <Table
              caption="Payments"
              columns={[
                { key: 'id', label: 'Payment', render: (p) => p.paymentId },
                { key: 'status', label: 'Status', render: (p) => <Badge value={p.status} /> },
                { key: 'amount', label: 'Amount', render: (p) => money(p.amount, p.currency) },
                { key: 'at', label: 'Updated', render: (p) => when(p.updatedAt) },
              ]}
              rows={o.payments}
              rowKey={(p) => p.paymentId}
              empty="No payments."
            />
            <h2>History</h2>
            <ul class="plain">
              {o.events.map((e, i) => (
                <li key={`${e.at}-${i}`}>
                  {when(e.at)} · {e.event}
                  {e.code ? ` (${e.code})` : ''}
                  {e.reason ? ` — ${e.reason}` : ''}
                </li>
              ))}
            </ul>
            <h2>Refunds</h2>
            <ul class="plain" data-testid="refunds">
              {o.refunds.map((r) => (
                <li key={r.id}>
                  {money(r.amount, o.currency)} · {r.reason} · {when(r.createdAt)}
                </li>
              ))}
              {o.refunds.length === 0 ? <li>None.</li> : null}
            </ul>
          </section>
        </div>
      ) : null}
    </Page>
  );
}

function RefundForm(props: {
  deviceId: string;
  orderId: string;
  max: number;
  currency: string;
  onDone: () => void;
}) {
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const amount = Math.round(Number(form.get('amount')) * 100);
    try {
      must(
        await api.POST('/api/v1/orders/{deviceId}/{orderId}/refunds', {
          params: { path: { deviceId: props.deviceId, orderId: props.orderId } },
          body: { amount, reason: String(form.get('reason') ?? '') },
        }),
      );
      setError(null);
      props.onDone();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form class="refund" onSubmit={submit} aria-labelledby="refund-title">
      <h3 id="refund-title">Refund</h3>
      <label class="field">
        <span>
          Amount ({props.currency}, up to {(props.max / 100).toFixed(2)})
        </span>
        <input
          name="amount"
          type="number"
          step="0.01"
          min="0.01"
          max={(props.max / 100).toFixed(2)}
          defaultValue={(props.max / 100).toFixed(2)}
          required
        />
      </label>
      <label class="field">
        <span>Reason</span>
        <input name="reason" minLength={3} maxLength={500} required />
      </label>
      <ErrorNote error={error} />
      <button type="submit" class="danger">
        Refund
      </button>
    </form>
  );
}
