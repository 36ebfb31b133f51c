import { useState } from 'preact/hooks';
import { api, download, must, saveFile } from '../api/client';
import type { components } from '../api/schema';
import { session } from '../api/session';
import { money, when } from '../ui/format';
import { navigate, useQuery, useRoute } from '../ui/hooks';
import { ActionButton, type Column, ErrorNote, Page, Pager, Table } from '../ui/widgets';

type Counters = components['schemas']['AuditCounters'];
type DeviceCounters = components['schemas']['DeviceAuditCounters'];
const PAGE_SIZE = 50;

/** One period in a line: paid and free vends, cashless, refunds. */
function period(c: Counters) {
  const cur = c.currency ?? 'EUR';
  return (
    `${c.paid.count} paid ${money(c.paid.value, cur)} · ${c.free.count} free · ` +
    `card ${money(c.card.value, cur)} · refunds ${c.refunds.count} ${money(c.refunds.value, cur)}`
  );
}

/** Every machine's audit counters (since init, since reset, since the last read), as the DEX file has them. */
export function AuditCountersPage() {
  const { params } = useRoute();
  const offset = Number(params.get('offset') ?? 0);
  const list = useQuery(
    async () =>
      must(await api.GET('/api/v1/finance/counters', { params: { query: { limit: PAGE_SIZE, offset } } })),
    [offset],
  );
  const [exportError, setExportError] = useState<string | null>(null);
  const columns: Column<DeviceCounters>[] = [
    {
      key: 'machine',
      label: 'Machine',
      render: (d) => <a href={`#/machines/${d.deviceId}`}>{d.deviceId}</a>,
    },
    { key: 'init', label: 'Since init', render: (d) => period(d.sinceInit) },
    { key: 'reset', label: 'Since reset', render: (d) => period(d.sinceReset) },
    { key: 'read', label: 'Since last read', render: (d) => period(d.sinceRead) },
    { key: 'lastRead', label: 'Last read', render: (d) => when(d.lastReadAt) },
    { key: 'lastReset', label: 'Last reset', render: (d) => when(d.lastResetAt) },
  ];
  return (
    <Page
      title="Audit counters"
      actions={
        <button
          type="button"
          onClick={() =>
            download('/api/v1/finance/counters.csv', {}, 'audit-counters.csv').catch((e: Error) =>
              setExportError(e.message),
            )
          }
        >
          Export CSV
        </button>
      }
    >
      <p class="muted">
        Vends the machines reported completed, counted by the hub. A machine's page downloads its DEX file,
        records a read, or resets its counters.
      </p>
      <ErrorNote error={list.error ?? exportError} />
      <Table
        caption="Audit counters per machine"
        columns={columns}
        rows={list.data?.items ?? []}
        rowKey={(d) => d.deviceId}
        empty="No machine has sold yet."
      />
      {list.data ? (
        <Pager
          total={list.data.total}
          limit={PAGE_SIZE}
          offset={offset}
          onPage={(o) => navigate('/counters', { offset: o || undefined })}
        />
      ) : null}
    </Page>
  );
}

/** On a machine's page (`finance:read`): its counters, the DEX file (preview, download, recorded read), reset. */
export function DexCard(props: { deviceId: string }) {
  const id = props.deviceId;
  const q = useQuery(
    async () =>
      must(await api.GET('/api/v1/finance/counters', { params: { query: { deviceId: id, limit: 1 } } }))
        .items[0],
    [id],
  );
  const [preview, setPreview] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const file = `${id}-${new Date().toISOString().slice(0, 10)}.dex`;
  const c = q.data;
  return (
    <section class="card wide" aria-labelledby="dex-title">
      <h2 id="dex-title">Audit counters (DEX)</h2>
      <ErrorNote error={q.error ?? error} />
      {c ? (
        <dl class="facts" data-testid="counters">
          <dt>Since init</dt>
          <dd>{period(c.sinceInit)}</dd>
          <dt>Since reset ({when(c.lastResetAt)})</dt>
          <dd>{period(c.sinceReset)}</dd>
          <dt>Since last read ({when(c.lastReadAt)})</dt>
          <dd>{period(c.sinceRead)}</dd>
        </dl>
      ) : null}
      <div class="actions">
        <ActionButton
          label="Preview DEX"
          run={async () => {
            const r = await api.GET('/api/v1/devices/{id}/dex', {
              params: { path: { id } },
              parseAs: 'text',
            });
            setPreview(must(r));
          }}
        />
        <button
          type="button"
          onClick={() =>
            download(`/api/v1/devices/${encodeURIComponent(id)}/dex`, {}, file).catch((e: Error) =>
              setError(e.message),
            )
          }
        >
          Download DEX
        </button>
        <ActionButton
          label="Read (record) DEX"
          run={async () => {
            const r = await api.POST('/api/v1/devices/{id}/dex/read', {
              params: { path: { id } },
              parseAs: 'text',
            });
            saveFile(new Blob([must(r)], { type: 'text/plain' }), file);
            setNote('Read recorded: the "since last read" interval starts now.');
          }}
          onDone={q.reload}
        />
        {session.can('counters:reset') ? (
          <ActionButton
            label="Reset counters"
            kind="danger"
            confirm={`Reset the "since reset" counters of ${id}? They and the "since last read" interval start again from zero.`}
            run={async () => {
              must(await api.POST('/api/v1/devices/{id}/dex/reset', { params: { path: { id } } }));
              setNote('Counters reset.');
            }}
            onDone={q.reload}
          />
        ) : null}
      </div>
      <p class="muted" role="status">
        {note}
      </p>
      {preview ? (
        <>
          <h3>DEX file as it reads now</h3>
          <pre class="secret" data-testid="dex-preview">
            {preview}
          </pre>
        </>
      ) : null}
    </section>
  );
}
