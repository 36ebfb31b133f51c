import { useState } from 'preact/hooks';
import { api, must } from '../api/client';
import { session } from '../api/session';
import { when } from '../ui/format';
import { useQuery } from '../ui/hooks';
import { ActionButton, ErrorNote, Page, Pager, Table } from '../ui/widgets';

const PAGE_SIZE = 20;

/** Recipe sets (signed menus with prices): versions, where each is assigned and how its rollout goes. */
export function Recipes() {
  const [offset, setOffset] = useState(0);
  const [open, setOpen] = useState<string | null>(null);
  const list = useQuery(
    async () =>
      must(await api.GET('/api/v1/recipe-sets', { params: { query: { limit: PAGE_SIZE, offset } } })),
    [offset],
  );
  return (
    <Page title="Recipes and prices">
      <ErrorNote error={list.error} />
      <Table
        caption="Recipe sets"
        columns={[
          {
            key: 'version',
            label: 'Version',
            render: (r) => (
              <button type="button" class="link" onClick={() => setOpen(r.id)}>
                v{r.version}
              </button>
            ),
          },
          { key: 'recipes', label: 'Recipes', render: (r) => r.recipes },
          { key: 'note', label: 'Note', render: (r) => r.note ?? '—' },
          { key: 'merchant', label: 'Merchant', render: (r) => r.merchantId },
          { key: 'at', label: 'Created', render: (r) => when(r.createdAt) },
        ]}
        rows={list.data?.items ?? []}
        rowKey={(r) => r.id}
        empty={list.loading ? 'Loading…' : 'No recipe sets.'}
      />
      {list.data ? (
        <Pager total={list.data.total} limit={PAGE_SIZE} offset={offset} onPage={setOffset} />
      ) : null}
      {open ? <Assignments id={open} /> : null}
    </Page>
  );
}

function Assignments(props: { id: string }) {
  const q = useQuery(
    async () =>
      must(await api.GET('/api/v1/recipe-sets/{id}/assignments', { params: { path: { id: props.id } } })),
    [props.id],
  );
  const [target, setTarget] = useState('');
  const [kind, setKind] = useState<'deviceId' | 'locationId'>('deviceId');
  const items = (q.data ?? []) as {
    id: string;
    version: number;
    targetType: string;
    targetId: string;
    createdAt: number;
    rollout: Record<string, number>;
  }[];
  return (
    <section class="card" aria-labelledby="assign-title">
      <h2 id="assign-title">Assignments and rollout</h2>
      <ErrorNote error={q.error} />
      <Table
        caption="Assignments"
        columns={[
          { key: 'target', label: 'Target', render: (a) => `${a.targetType} ${a.targetId}` },
          { key: 'version', label: 'Version', render: (a) => `v${a.version}` },
          {
            key: 'rollout',
            label: 'Rollout',
            render: (a) =>
              Object.entries(a.rollout)
                .map(([status, n]) => `${n} ${status}`)
                .join(', ') || '—',
          },
          { key: 'at', label: 'Assigned', render: (a) => when(a.createdAt) },
        ]}
        rows={items}
        rowKey={(a) => a.id}
        empty="Not assigned yet."
      />
      {session.can('device:command') ? (
        <div class="filters">
          <label class="field">
            <span>Assign to</span>
            <select value={kind} onChange={(e) => setKind(e.currentTarget.value as typeof kind)}>
              <option value="deviceId">machine</option>
              <option value="locationId">location</option>
            </select>
          </label>
          <label class="field">
            <span>{kind === 'deviceId' ? 'Machine id' : 'Location id'}</span>
            <input value={target} onInput={(e) => setTarget(e.currentTarget.value)} />
          </label>
          <ActionButton
            label="Assign"
            run={async () =>
              must(
                await api.POST('/api/v1/recipe-sets/{id}/assign', {
                  params: { path: { id: props.id } },
                  body: { target: kind === 'deviceId' ? { deviceId: target } : { locationId: target } },
                }),
              )
            }
            onDone={q.reload}
          />
        </div>
      ) : null}
    </section>
  );
}
