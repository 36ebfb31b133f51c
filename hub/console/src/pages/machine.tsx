import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, must } from '../api/client';
import { session } from '../api/session';
import { type Series, TimeChart } from '../ui/chart';
import { SecretDialog } from '../ui/dialog';
import { ago, money, when } from '../ui/format';
import { useLive, useQuery } from '../ui/hooks';
import { ActionButton, Badge, ErrorNote, Page, Table } from '../ui/widgets';
import { DexCard } from './counters';
import { CleaningCard } from './maintenance';
import { SetPrices } from './prices';

/** The fleet state fields the page shows (the API types the state as an open object). */
interface LiveState {
  online?: boolean;
  lastSeenAt?: number | null;
  machineState?: string | null;
  salesLocked?: boolean | null;
  firmwareVersion?: string | null;
  agentVersion?: string | null;
  outboxDepth?: number | null;
  versions?: { priceList: number | null };
  materials?: { material: string; level: number; capacity: number; unit: string }[];
}

type CommandKind = 'lock' | 'unlock' | 'rinse' | 'descale' | 'restart' | 'diagnostics';
const ACTIONS: { kind: CommandKind; label: string; params: Record<string, unknown>; confirm?: string }[] = [
  { kind: 'lock', label: 'Lock sales', params: { reason: 'locked from the console' } },
  { kind: 'unlock', label: 'Unlock sales', params: {} },
  { kind: 'rinse', label: 'Rinse', params: { cycles: 1 } },
  {
    kind: 'descale',
    label: 'Descale',
    params: {},
    confirm:
      'Descale this machine now? It takes about 15 minutes, needs descaling solution in the tank, and refuses orders meanwhile.',
  },
  {
    kind: 'restart',
    label: 'Restart agent',
    params: { target: 'agent' },
    confirm: 'Restart the agent of this machine?',
  },
  { kind: 'diagnostics', label: 'Diagnostics', params: {} },
];

export function MachineDetail(props: { id: string }) {
  const id = props.id;
  const device = useQuery(
    async () => must(await api.GET('/api/v1/devices/{id}', { params: { path: { id } } })),
    [id],
  );
  const bins = useQuery(
    async () =>
      must(await api.GET('/api/v1/materials/bins', { params: { query: { deviceId: id, limit: 10 } } })).items,
    [id],
  );
  const alarms = useQuery(
    async () =>
      must(
        await api.GET('/api/v1/alarms', { params: { query: { deviceId: id, status: 'open', limit: 10 } } }),
      ).items,
    [id],
  );
  const orders = useQuery(
    async () =>
      must(await api.GET('/api/v1/orders', { params: { query: { deviceId: id, limit: 10 } } })).items,
    [id],
  );
  const commands = useQuery(
    async () =>
      must(await api.GET('/api/v1/commands', { params: { query: { deviceId: id, limit: 10 } } })).items,
    [id],
  );
  const reloadAll = () => {
    device.reload();
    bins.reload();
    alarms.reload();
    orders.reload();
    commands.reload();
  };
  useLive((e) => e.deviceId === id, reloadAll, 300);
  // Heartbeats (sales lock, machine state) change the state without a live event: re-read it now and then.
  useEffect(() => {
    const timer = setInterval(device.reload, 3000);
    return () => clearInterval(timer);
  }, [device.reload]);
  const d = device.data;
  const state = (d?.state ?? null) as LiveState | null;
  const canCommand = session.can('device:command');
  const canWrite = session.can('device:write');
  /** A rotated credential, held only while its dialog is open. */
  const [credential, setCredential] = useState<{ deviceId: string; secret: string } | null>(null);
  const send = async (kind: CommandKind, params: Record<string, unknown>) =>
    must(await api.POST('/api/v1/commands', { body: { kind, params, target: { deviceIds: [id] } } }));
  return (
    <Page title={`Machine ${id}`}>
      <p>
        <a href="#/machines">← All machines</a>
      </p>
      <ErrorNote error={device.error} />
      {credential ? (
        <SecretDialog
          title={`New credential of ${credential.deviceId}`}
          note="Give it to the machine's agent now: it is shown this once, and the old one no longer works."
          secret={credential.secret}
          onClose={() => setCredential(null)}
        />
      ) : null}
      {d ? (
        <div class="grid2">
          <section class="card" aria-labelledby="state-title">
            <h2 id="state-title">Live state</h2>
            <dl class="facts" data-testid="live-state">
              <dt>Connection</dt>
              <dd>
                <Badge value={state?.online ? 'online' : 'offline'} /> seen {ago(state?.lastSeenAt)}
              </dd>
              <dt>Machine</dt>
              <dd>{state?.machineState ?? '—'}</dd>
              <dt>Sales</dt>
              <dd data-testid="sales">
                {state?.salesLocked === null || state?.salesLocked === undefined
                  ? '—'
                  : state.salesLocked
                    ? 'locked'
                    : 'open'}
              </dd>
              <dt>Name / model</dt>
              <dd>
                {d.name ?? '—'} / {d.model}
              </dd>
              <dt>Firmware / agent</dt>
              <dd>
                {state?.firmwareVersion ?? '—'} / {state?.agentVersion ?? '—'}
              </dd>
              <dt>Credential</dt>
              <dd>
                <Badge value={d.status} /> rotated {when(d.credentialRotatedAt)}
              </dd>
            </dl>
            {canCommand && d.status === 'active' ? (
              <fieldset class="actions">
                <legend class="sr-only">Commands</legend>
                {ACTIONS.map((a) => (
                  <ActionButton
                    key={a.kind}
                    label={a.label}
                    confirm={a.confirm}
                    run={() => send(a.kind, a.params)}
                    onDone={commands.reload}
                  />
                ))}
                <SetPrices
                  deviceId={id}
                  currentVersion={state?.versions?.priceList ?? null}
                  onDone={commands.reload}
                />
              </fieldset>
            ) : null}
            {canWrite && d.status === 'active' ? (
              <fieldset class="actions">
                <legend class="sr-only">Credential</legend>
                <ActionButton
                  label="Rotate credential"
                  confirm="Issue a new credential? The machine must be given it."
                  run={async () => {
                    const c = must(
                      await api.POST('/api/v1/devices/{id}/credential', { params: { path: { id } } }),
                    );
                    setCredential(c);
                  }}
                  onDone={device.reload}
                />
                <ActionButton
                  label="Revoke"
                  kind="danger"
                  confirm="Revoke this machine? It is disconnected at once."
                  run={async () =>
                    must(await api.POST('/api/v1/devices/{id}/revoke', { params: { path: { id } } }))
                  }
                  onDone={device.reload}
                />
              </fieldset>
            ) : null}
          </section>
          <section class="card">
            <h2>Materials</h2>
            <ul class="plain">
              {(bins.data ?? []).map((b) => (
                <li key={b.id}>
                  <span class="meter-label">
                    {b.material} {Math.round(b.percent)} %{b.low ? ' (low)' : ''}
                  </span>
                  <meter
                    min={0}
                    max={100}
                    low={b.lowThreshold}
                    value={b.percent}
                    aria-label={`${b.material} level`}
                  />
                </li>
              ))}
              {bins.data?.length === 0 ? <li>No bins configured.</li> : null}
            </ul>
            <h2>Open alarms</h2>
            <ul class="plain">
              {(alarms.data ?? []).map((a) => (
                <li key={a.id}>
                  <Badge value={a.severity} /> {a.code} · {ago(a.raisedAt)}
                </li>
              ))}
              {alarms.data?.length === 0 ? <li>None.</li> : null}
            </ul>
          </section>
          <CleaningCard maintenance={d.maintenance} />
          {session.can('finance:read') ? <DexCard deviceId={id} /> : null}
          {session.can('telemetry:read') ? <Telemetry id={id} /> : null}
          <section class="card wide">
            <h2>Commands</h2>
            <Table
              caption="Recent commands"
              columns={[
                { key: 'kind', label: 'Kind', render: (c) => c.kind },
                { key: 'status', label: 'Status', render: (c) => <Badge value={c.status} /> },
                { key: 'issued', label: 'Issued', render: (c) => when(c.issuedAt) },
                { key: 'result', label: 'Result', render: (c) => c.result?.message ?? c.result?.code ?? '—' },
              ]}
              rows={commands.data ?? []}
              rowKey={(c) => c.id}
              empty="No commands yet."
            />
          </section>
          <section class="card wide">
            <h2>Recent orders</h2>
            <Table
              caption="Recent orders"
              columns={[
                {
                  key: 'id',
                  label: 'Order',
                  render: (o) => (
                    <a href={`#/orders/${o.deviceId}/${encodeURIComponent(o.orderId)}`}>{o.orderId}</a>
                  ),
                },
                { key: 'status', label: 'Status', render: (o) => <Badge value={o.status} /> },
                { key: 'amount', label: 'Amount', render: (o) => money(o.amount, o.currency) },
                { key: 'at', label: 'At', render: (o) => when(o.createdAt) },
              ]}
              rows={orders.data ?? []}
              rowKey={(o) => o.orderId}
              empty="No orders yet."
            />
          </section>
        </div>
      ) : null}
    </Page>
  );
}

const METRIC_COLORS = ['#c9762c', '#2f7dd1', '#2e9e5b', '#a04bc8'];

/** The last hour of telemetry in one-minute buckets, one line per metric. */
function Telemetry(props: { id: string }) {
  const q = useQuery(async () => {
    const to = Date.now();
    return must(
      await api.GET('/api/v1/devices/{id}/telemetry', {
        params: { path: { id: props.id }, query: { from: to - 3_600_000, to, bucketMs: 60_000 } },
      }),
    );
  }, [props.id]);
  const chart = useMemo(() => {
    const points = (q.data?.points ?? []) as { metric: string; ts: number; value?: number; avg?: number }[];
    const x = [...new Set(points.map((p) => p.ts))].sort((a, b) => a - b);
    const metrics = [...new Set(points.map((p) => p.metric))];
    const series: Series[] = metrics.map((m, i) => {
      const at = new Map(points.filter((p) => p.metric === m).map((p) => [p.ts, p.avg ?? p.value ?? null]));
      return {
        label: m,
        values: x.map((t) => at.get(t) ?? null),
        color: METRIC_COLORS[i % METRIC_COLORS.length] ?? '#888',
      };
    });
    return { x, series };
  }, [q.data]);
  return (
    <section class="card wide">
      <h2>Telemetry, last hour</h2>
      <ErrorNote error={q.error} />
      {chart.x.length ? (
        <TimeChart title="Telemetry, last hour" x={chart.x} series={chart.series} />
      ) : (
        <p>No telemetry in the last hour.</p>
      )}
    </section>
  );
}
