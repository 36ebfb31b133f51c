import { useState } from 'preact/hooks';
import { api, download, must } from '../api/client';
import { session } from '../api/session';
import { SecretDialog } from '../ui/dialog';
import { when } from '../ui/format';
import { navigate, useQuery, useRoute } from '../ui/hooks';
import { Badge, type Column, ErrorNote, Field, Page, Pager, Table } from '../ui/widgets';

const PAGE_SIZE = 25;
type SortKey = 'id' | 'name' | 'model' | 'createdAt';
type Device = {
  id: string;
  name: string | null;
  model: string;
  locationId: string | null;
  merchantId: string;
  status: 'active' | 'revoked';
  online: boolean;
  lastSeenAt: number | null;
  createdAt: number;
};

export function Machines() {
  const { params } = useRoute();
  const f = {
    q: params.get('q') ?? '',
    locationId: params.get('locationId') ?? '',
    merchantId: params.get('merchantId') ?? '',
    status: (params.get('status') ?? '') as '' | 'active' | 'revoked',
    online: (params.get('online') ?? '') as '' | 'true' | 'false',
    alarm: (params.get('alarm') ?? '') as '' | 'true' | 'false',
    sort: (params.get('sort') ?? 'id') as SortKey,
    order: (params.get('order') ?? 'asc') as 'asc' | 'desc',
    offset: Number(params.get('offset') ?? 0),
  };
  const set = (change: Partial<typeof f>) => navigate('/machines', { ...f, offset: 0, ...change });
  const filterQuery = {
    ...(f.q ? { q: f.q } : {}),
    ...(f.locationId ? { locationId: f.locationId } : {}),
    ...(f.merchantId ? { merchantId: f.merchantId } : {}),
    ...(f.status ? { status: f.status } : {}),
    ...(f.online ? { online: f.online === 'true' } : {}),
    ...(f.alarm ? { alarm: f.alarm === 'true' } : {}),
  };
  const list = useQuery(
    async () =>
      must(
        await api.GET('/api/v1/devices', {
          params: {
            query: { ...filterQuery, sort: f.sort, order: f.order, limit: PAGE_SIZE, offset: f.offset },
          },
        }),
      ),
    [params.toString()],
  );
  const locations = useQuery(
    async () => must(await api.GET('/api/v1/locations', { params: { query: { limit: 200 } } })).items,
    [],
  );
  const superadmin = session.me?.role === 'superadmin';
  const merchants = useQuery(
    async () =>
      superadmin && session.can('merchant:read')
        ? must(await api.GET('/api/v1/merchants', { params: { query: { limit: 200 } } })).items
        : [],
    [superadmin],
  );
  const merchantName = (id: string) => merchants.data?.find((m) => m.id === id)?.name ?? id;
  const [registering, setRegistering] = useState(false);
  const [exportError, setExportError] = useState<string | null>(null);
  const columns: Column<Device>[] = [
    { key: 'id', label: 'Machine', sortable: true, render: (d) => <a href={`#/machines/${d.id}`}>{d.id}</a> },
    { key: 'name', label: 'Name', sortable: true, render: (d) => d.name ?? '—' },
    { key: 'model', label: 'Model', sortable: true, render: (d) => d.model },
    {
      key: 'location',
      label: 'Location',
      render: (d) => locations.data?.find((l) => l.id === d.locationId)?.name ?? d.locationId ?? '—',
    },
    ...(session.me?.role === 'superadmin'
      ? [{ key: 'merchant', label: 'Merchant', render: (d: Device) => merchantName(d.merchantId) }]
      : []),
    { key: 'status', label: 'Status', render: (d) => <Badge value={d.status} /> },
    {
      key: 'online',
      label: 'Connection',
      render: (d) => <Badge value={d.online ? 'online' : 'offline'} />,
    },
    { key: 'createdAt', label: 'Registered', sortable: true, render: (d) => when(d.createdAt) },
  ];
  return (
    <Page
      title="Machines"
      actions={
        <>
          <button
            type="button"
            onClick={() =>
              download(
                '/api/v1/devices/export.csv',
                { ...filterQuery, online: f.online || undefined, alarm: f.alarm || undefined },
                'machines.csv',
              ).catch((e: Error) => setExportError(e.message))
            }
          >
            Export CSV
          </button>
          {session.can('device:write') ? <a href="#/claim-codes">Claim codes</a> : null}
          <a href="#/maintenance?overdue=true">Cleaning overdue</a>
          {session.can('device:write') ? (
            <button type="button" class="primary" onClick={() => setRegistering(true)}>
              Register machine
            </button>
          ) : null}
        </>
      }
    >
      {registering ? (
        <Register
          locations={locations.data ?? []}
          merchants={merchants.data ?? []}
          onClose={() => {
            setRegistering(false);
            list.reload();
          }}
        />
      ) : null}
      <form
        class="filters"
        aria-label="Filters"
        onSubmit={(e) => {
          e.preventDefault();
          set({ q: String(new FormData(e.currentTarget).get('q') ?? '') });
        }}
      >
        <Field label="Search">
          <input name="q" type="search" defaultValue={f.q} placeholder="id or name" />
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
        {session.me?.role === 'superadmin' ? (
          <Field label="Merchant">
            <select value={f.merchantId} onChange={(e) => set({ merchantId: e.currentTarget.value })}>
              <option value="">All</option>
              {f.merchantId && !merchants.data?.some((m) => m.id === f.merchantId) ? (
                <option value={f.merchantId}>{f.merchantId}</option>
              ) : null}
              {(merchants.data ?? []).map((m) => (
                <option key={m.id} value={m.id}>
                  {m.name}
                </option>
              ))}
            </select>
          </Field>
        ) : (
          <span />
        )}
        <Field label="Status">
          <select
            value={f.status}
            onChange={(e) => set({ status: e.currentTarget.value as typeof f.status })}
          >
            <option value="">All</option>
            <option value="active">Active</option>
            <option value="revoked">Revoked</option>
          </select>
        </Field>
        <Field label="Connection">
          <select
            value={f.online}
            onChange={(e) => set({ online: e.currentTarget.value as typeof f.online })}
          >
            <option value="">All</option>
            <option value="true">Online</option>
            <option value="false">Offline</option>
          </select>
        </Field>
        <Field label="Alarms">
          <select value={f.alarm} onChange={(e) => set({ alarm: e.currentTarget.value as typeof f.alarm })}>
            <option value="">All</option>
            <option value="true">With open alarms</option>
            <option value="false">Without open alarms</option>
          </select>
        </Field>
        <button type="submit">Search</button>
      </form>
      <ErrorNote error={list.error ?? exportError} />
      <Table
        caption="Machines"
        columns={columns}
        rows={(list.data?.items ?? []) as Device[]}
        rowKey={(d) => d.id}
        sort={{ key: f.sort, order: f.order }}
        onSort={(key) =>
          set({ sort: key as SortKey, order: f.sort === key && f.order === 'asc' ? 'desc' : 'asc' })
        }
        empty={list.loading ? 'Loading…' : 'No machines match.'}
      />
      {list.data ? (
        <Pager
          total={list.data.total}
          limit={PAGE_SIZE}
          offset={f.offset}
          onPage={(offset) => set({ offset })}
        />
      ) : null}
    </Page>
  );
}

/** Registers a machine and shows its credential once (the hub keeps only a hash). */
function Register(props: {
  locations: { id: string; name: string; merchantId: string }[];
  merchants: { id: string; name: string }[];
  onClose: () => void;
}) {
  const superadmin = session.me?.role === 'superadmin';
  const [merchantId, setMerchantId] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [secret, setSecret] = useState<{ deviceId: string; secret: string } | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const text = (k: string) => String(form.get(k) ?? '').trim() || undefined;
    try {
      const res = must(
        await api.POST('/api/v1/devices', {
          body: {
            model: text('model') ?? '',
            ...(text('id') ? { id: text('id') } : {}),
            ...(text('name') ? { name: text('name') } : {}),
            ...(text('locationId') ? { locationId: text('locationId') } : {}),
            ...(text('merchantId') ? { merchantId: text('merchantId') } : {}),
          },
        }),
      );
      setSecret(res.credential);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  if (secret)
    return (
      <SecretDialog
        title={`Credential of ${secret.deviceId}`}
        note="Copy it now into the machine's agent configuration: it is shown once and cannot be read again."
        secret={secret.secret}
        onClose={() => {
          setSecret(null);
          props.onClose();
        }}
      />
    );
  return (
    <form class="card" onSubmit={submit} aria-labelledby="reg-title">
      <h2 id="reg-title">Register a machine</h2>
      <div class="filters">
        <Field label="Id (optional)">
          <input name="id" pattern="[a-z0-9][a-z0-9_\-]{2,63}" />
        </Field>
        <Field label="Name">
          <input name="name" />
        </Field>
        <Field label="Model">
          <input name="model" required />
        </Field>
        {superadmin ? (
          <Field label="Merchant">
            <select
              name="merchantId"
              required
              value={merchantId}
              onChange={(e) => setMerchantId(e.currentTarget.value)}
            >
              <option value="">Choose…</option>
              {props.merchants.map((m) => (
                <option key={m.id} value={m.id}>
                  {m.name}
                </option>
              ))}
            </select>
          </Field>
        ) : null}
        <Field label="Location">
          <select name="locationId">
            <option value="">None</option>
            {props.locations
              .filter((l) => !superadmin || l.merchantId === merchantId)
              .map((l) => (
                <option key={l.id} value={l.id}>
                  {l.name}
                </option>
              ))}
          </select>
        </Field>
      </div>
      <ErrorNote error={error} />
      <button type="submit" class="primary">
        Register
      </button>{' '}
      <button type="button" onClick={props.onClose}>
        Cancel
      </button>
    </form>
  );
}
