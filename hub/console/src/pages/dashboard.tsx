import { useMemo, useRef } from 'preact/hooks';
import { api, must } from '../api/client';
import { session } from '../api/session';
import { type Series, TimeChart } from '../ui/chart';
import { ago, money } from '../ui/format';
import { useLive, useQuery } from '../ui/hooks';
import { Badge, ErrorNote, Page, Stat } from '../ui/widgets';

const DAY = 86_400_000;

export function Dashboard() {
  const summary = useQuery(async () => must(await api.GET('/api/v1/dashboard/summary')), []);
  // A sample per refresh: the live line of the session beside the daily history.
  const samples = useRef<{ at: number; online: number; orders: number }[]>([]);
  const d = summary.data;
  if (d && samples.current.at(-1)?.at !== d.at)
    samples.current = [
      ...samples.current.slice(-199),
      { at: d.at, online: d.devices.online, orders: d.today.orders },
    ];
  // Machines late on a rinse or descale (the summary does not count them).
  const overdue = useQuery(
    async () =>
      must(await api.GET('/api/v1/maintenance', { params: { query: { overdue: 'true', limit: 1 } } })).total,
    [],
  );
  useLive(
    () => true,
    () => {
      summary.reload();
      overdue.reload();
    },
    1000,
  );
  return (
    <Page title="Dashboard">
      <ErrorNote error={summary.error} />
      {d ? (
        <>
          <div class="stats" aria-live="polite">
            <Stat label="Machines online" value={d.devices.online} tone="ok" href="#/machines?online=true" />
            <Stat
              label="Machines offline"
              value={d.devices.offline}
              tone={d.devices.offline ? 'warn' : 'ok'}
              href="#/machines?online=false"
            />
            <Stat label="Orders today" value={d.today.orders} href="#/orders" />
            <Stat
              label="Revenue today"
              value={
                d.today.revenue.length
                  ? d.today.revenue.map((r) => money(r.amount, r.currency)).join(' + ')
                  : money(0, 'EUR')
              }
            />
            <Stat
              label="Open alarms"
              value={d.alarms.open}
              tone={d.alarms.critical ? 'bad' : d.alarms.open ? 'warn' : 'ok'}
              href="#/alarms"
            />
            <Stat
              label="Low materials"
              value={d.materials.low}
              tone={d.materials.low ? 'warn' : 'ok'}
              href="#/materials?low=true"
            />
            <Stat
              label="Cleaning overdue"
              value={overdue.data ?? '—'}
              tone={overdue.data ? 'bad' : 'ok'}
              href="#/maintenance?overdue=true"
            />
            <Stat label="Pending commands" value={d.commands.pending} />
            <Stat label="Open work orders" value={d.workOrders.open} href="#/alarms" />
          </div>
          <p class="muted">Updated {ago(d.at)} · live</p>
          <div class="grid2">
            {session.can('finance:read') ? <DailyChart /> : null}
            <LiveChart samples={samples.current} />
            <section class="card">
              <h2>Recent alarms</h2>
              <ul class="plain">
                {d.alarms.recent.map((a) => (
                  <li key={a.id}>
                    <Badge value={a.severity} /> <a href={`#/machines/${a.deviceId}`}>{a.deviceId}</a>{' '}
                    {a.code} · {ago(a.raisedAt)}
                  </li>
                ))}
                {d.alarms.recent.length === 0 ? <li>None open.</li> : null}
              </ul>
            </section>
            <section class="card">
              <h2>Lowest materials</h2>
              <ul class="plain">
                {d.materials.lowest.map((m) => (
                  <li key={`${m.deviceId}/${m.material}`}>
                    <a href={`#/machines/${m.deviceId}`}>{m.deviceId}</a> {m.material} {Math.round(m.percent)}{' '}
                    %
                  </li>
                ))}
              </ul>
            </section>
          </div>
        </>
      ) : (
        <p>Loading…</p>
      )}
    </Page>
  );
}

/** Orders and revenue per day over the last two weeks (finance summary, in the hub's day buckets). */
function DailyChart() {
  const q = useQuery(async () => {
    const to = Date.now();
    return must(
      await api.GET('/api/v1/finance/summary', {
        params: { query: { from: to - 14 * DAY, to, groupBy: 'day' } },
      }),
    );
  }, []);
  const chart = useMemo(() => {
    const rows = [...(q.data?.rows ?? [])].sort((a, b) => a.key.localeCompare(b.key));
    const series: Series[] = [
      { label: 'Orders', values: rows.map((r) => r.orders), color: '#2f7dd1' },
      { label: 'Revenue', values: rows.map((r) => r.revenue / 100), color: '#c9762c', right: true },
    ];
    return { x: rows.map((r) => Date.parse(r.key)), series };
  }, [q.data]);
  return (
    <section class="card">
      <h2>Orders and revenue per day</h2>
      <ErrorNote error={q.error} />
      <TimeChart
        title="Orders and revenue per day"
        x={chart.x}
        series={chart.series}
        minSpanMs={2 * 86_400_000}
      />
    </section>
  );
}

function LiveChart(props: { samples: { at: number; online: number; orders: number }[] }) {
  const { samples } = props;
  const series = useMemo<Series[]>(
    () => [
      { label: 'Orders today', values: samples.map((s) => s.orders), color: '#2f7dd1' },
      { label: 'Online', values: samples.map((s) => s.online), color: '#2e9e5b', right: true },
    ],
    [samples],
  );
  const x = useMemo(() => samples.map((s) => s.at), [samples]);
  return (
    <section class="card">
      <h2>Live: orders today and machines online</h2>
      <TimeChart title="Live orders today and machines online" x={x} series={series} />
    </section>
  );
}
