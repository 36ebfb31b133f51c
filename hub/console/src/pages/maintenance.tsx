import { api, must } from '../api/client';
import type { components } from '../api/schema';
import { ago, when } from '../ui/format';
import { navigate, useLive, useQuery, useRoute } from '../ui/hooks';
import { Badge, type Column, ErrorNote, Field, Page, Pager, Table } from '../ui/widgets';

type Compliance = NonNullable<components['schemas']['Maintenance']>;
type Task = components['schemas']['MaintenanceTask'];
const PAGE_SIZE = 50;

function task(t: Task) {
  return (
    <>
      <Badge value={t.status} /> last {ago(t.lastAt)}, {t.drinksSince} drinks since
      {t.overdueAt && !t.overdue ? `, overdue ${when(t.overdueAt)}` : ''}
    </>
  );
}

/** Cleaning compliance of every machine, as each last reported it; `?overdue=true` lists the late ones. */
export function Maintenance() {
  const { params } = useRoute();
  const overdue =
    params.get('overdue') === 'true' ? 'true' : params.get('overdue') === 'false' ? 'false' : undefined;
  const offset = Number(params.get('offset') ?? 0);
  const list = useQuery(
    async () =>
      must(
        await api.GET('/api/v1/maintenance', {
          params: { query: { limit: PAGE_SIZE, offset, ...(overdue ? { overdue } : {}) } },
        }),
      ),
    [overdue, offset],
  );
  useLive((e) => e.type.startsWith('alarm'), list.reload, 1000);
  const columns: Column<Compliance>[] = [
    {
      key: 'machine',
      label: 'Machine',
      render: (m) => <a href={`#/machines/${m.deviceId}`}>{m.deviceId}</a>,
    },
    { key: 'rinse', label: 'Rinse', render: (m) => task(m.rinse) },
    { key: 'descale', label: 'Descale', render: (m) => task(m.descale) },
    {
      key: 'sales',
      label: 'Sales',
      render: (m) => (m.salesLocked ? <Badge value="locked" /> : 'open'),
    },
    { key: 'running', label: 'Running', render: (m) => m.running ?? '—' },
    { key: 'reported', label: 'Reported', render: (m) => ago(m.reportedAt) },
  ];
  const rows = (list.data?.items ?? []).filter((m): m is Compliance => m !== null);
  return (
    <Page title="Cleaning and descaling">
      <div class="filters">
        <Field label="Compliance">
          <select
            value={overdue ?? ''}
            onChange={(e) => navigate('/maintenance', { overdue: e.currentTarget.value })}
          >
            <option value="">All machines</option>
            <option value="true">Overdue</option>
            <option value="false">Compliant</option>
          </select>
        </Field>
      </div>
      <ErrorNote error={list.error} />
      <Table
        caption="Cleaning compliance"
        columns={columns}
        rows={rows}
        rowKey={(m) => m.deviceId}
        empty={overdue === 'true' ? 'No machine is overdue.' : 'No machine has reported yet.'}
      />
      {list.data ? (
        <Pager
          total={list.data.total}
          limit={PAGE_SIZE}
          offset={offset}
          onPage={(o) => navigate('/maintenance', { overdue, offset: o || undefined })}
        />
      ) : null}
    </Page>
  );
}

/** A machine's compliance on its detail page (null before its first report). */
export function CleaningCard(props: { maintenance: Compliance | null | undefined }) {
  const m = props.maintenance;
  return (
    <section class="card" aria-labelledby="cleaning-title">
      <h2 id="cleaning-title">Cleaning</h2>
      {m ? (
        <dl class="facts" data-testid="cleaning">
          <dt>Rinse</dt>
          <dd data-testid="cleaning-rinse">{task(m.rinse)}</dd>
          <dt>Descale</dt>
          <dd data-testid="cleaning-descale">{task(m.descale)}</dd>
          <dt>Compliance</dt>
          <dd>{m.overdue ? <Badge value="overdue" /> : <Badge value="ok" />}</dd>
          <dt>Sales locked for it</dt>
          <dd>{m.salesLocked ? 'yes' : 'no'}</dd>
          <dt>Running now</dt>
          <dd>{m.running ?? '—'}</dd>
          <dt>Reported</dt>
          <dd>{ago(m.reportedAt)}</dd>
        </dl>
      ) : (
        <p>Not reported yet.</p>
      )}
    </section>
  );
}
