import { useState } from 'preact/hooks';
import { api, download, must } from '../api/client';
import { money, when } from '../ui/format';
import { navigate, useQuery, useRoute } from '../ui/hooks';
import { Badge, ErrorNote, Field, Page, Pager, Table } from '../ui/widgets';

const PAGE_SIZE = 25;
const STATUSES = ['created', 'paid', 'brewing', 'completed', 'failed', 'refunded'] as const;

export function Orders() {
  const { params } = useRoute();
  const f = {
    deviceId: params.get('deviceId') ?? '',
    locationId: params.get('locationId') ?? '',
    status: (params.get('status') ?? '') as '' | (typeof STATUSES)[number],
    method: (params.get('method') ?? '') as '' | 'card' | 'free_vend',
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
    offset: Number(params.get('offset') ?? 0),
  };
  const set = (change: Partial<typeof f>) => navigate('/orders', { ...f, offset: 0, ...change });
  const day = (s: string, end = false) =>
    s ? new Date(`${s}T00:00:00`).getTime() + (end ? 86_400_000 : 0) : undefined;
  const filterQuery = {
    ...(f.deviceId ? { deviceId: f.deviceId } : {}),
    ...(f.locationId ? { locationId: f.locationId } : {}),
    ...(f.status ? { status: f.status } : {}),
    ...(f.method ? { method: f.method } : {}),
    ...(f.from ? { from: day(f.from) } : {}),
    ...(f.to ? { to: day(f.to, true) } : {}),
  };
  const list = useQuery(
    async () =>
      must(
        await api.GET('/api/v1/orders', {
          params: { query: { ...filterQuery, limit: PAGE_SIZE, offset: f.offset } },
        }),
      ),
    [params.toString()],
  );
  const locations = useQuery(
    async () => must(await api.GET('/api/v1/locations', { params: { query: { limit: 200 } } })).items,
    [],
  );
  const [exportError, setExportError] = useState<string | null>(null);
  const exportCsv = () =>
    download(
      '/api/v1/orders/export.csv',
      Object.fromEntries(Object.entries(filterQuery).map(([k, v]) => [k, String(v)])),
      'orders.csv',
    ).catch((e: Error) => setExportError(e.message));
  return (
    <Page
      title="Orders"
      actions={
        <button type="button" onClick={exportCsv}>
          Export CSV
        </button>
      }
    >
      <form
        class="filters"
        aria-label="Filters"
        onSubmit={(e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget);
          set({
            deviceId: String(form.get('deviceId') ?? ''),
            from: String(form.get('from') ?? ''),
            to: String(form.get('to') ?? ''),
          });
        }}
      >
        <Field label="Machine">
          <input name="deviceId" defaultValue={f.deviceId} />
        </Field>
        <Field label="Location">
          <select value={f.locationId} onChange={(e) => set({ locationId: e.currentTarget.value })}>
            <option value="">All</option>
            {(locations.data ?? []).map((l) => (
              <option key={l.id} value={l.id}>
                {l.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Status">
          <select
            value={f.status}
            onChange={(e) => set({ status: e.currentTarget.value as typeof f.status })}
          >
            <option value="">All</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Payment">
          <select
            value={f.method}
            onChange={(e) => set({ method: e.currentTarget.value as typeof f.method })}
          >
            <option value="">All</option>
            <option value="card">Card</option>
            <option value="free_vend">Free vend</option>
          </select>
        </Field>
        <Field label="From">
          <input name="from" type="date" defaultValue={f.from} />
        </Field>
        <Field label="To">
          <input name="to" type="date" defaultValue={f.to} />
        </Field>
        <button type="submit">Apply</button>
      </form>
      <ErrorNote error={list.error ?? exportError} />
      <Table
        caption="Orders"
        columns={[
          {
            key: 'order',
            label: 'Order',
            render: (o) => (
              <a href={`#/orders/${o.deviceId}/${encodeURIComponent(o.orderId)}`}>{o.orderId}</a>
            ),
          },
          {
            key: 'machine',
            label: 'Machine',
            render: (o) => <a href={`#/machines/${o.deviceId}`}>{o.deviceId}</a>,
          },
          { key: 'status', label: 'Status', render: (o) => <Badge value={o.status} /> },
          { key: 'amount', label: 'Amount', render: (o) => money(o.amount, o.currency) },
          {
            key: 'refund',
            label: 'Refunded',
            render: (o) => (o.refundedAmount ? money(o.refundedAmount, o.currency) : '—'),
          },
          { key: 'method', label: 'Payment', render: (o) => o.method },
          { key: 'at', label: 'At', render: (o) => when(o.createdAt) },
        ]}
        rows={list.data?.items ?? []}
        rowKey={(o) => `${o.deviceId}/${o.orderId}`}
        empty={list.loading ? 'Loading…' : 'No orders match.'}
      />
      {list.data ? (
        <Pager
          total={list.data.total}
          limit={PAGE_SIZE}
          offset={f.offset}
          onPage={(offset) => set({ ...f, offset })}
        />
      ) : null}
    </Page>
  );
}
