import { api, must } from '../api/client';
import { session } from '../api/session';
import { when } from '../ui/format';
import { navigate, useLive, useQuery, useRoute } from '../ui/hooks';
import { ActionButton, Badge, ErrorNote, Field, Page, Pager, Table } from '../ui/widgets';
import { BindBin, PushBinding, useMaterialCodes } from './bin-binding';
import { Catalog } from './catalog';

const PAGE_SIZE = 25;

export function Materials() {
  const { params } = useRoute();
  const f = {
    deviceId: params.get('deviceId') ?? '',
    material: params.get('material') ?? '',
    low: (params.get('low') ?? '') as '' | 'true',
    offset: Number(params.get('offset') ?? 0),
  };
  const set = (change: Partial<typeof f>) => navigate('/materials', { ...f, offset: 0, ...change });
  const list = useQuery(
    async () =>
      must(
        await api.GET('/api/v1/materials/bins', {
          params: {
            query: {
              ...(f.deviceId ? { deviceId: f.deviceId } : {}),
              ...(f.material ? { material: f.material } : {}),
              ...(f.low ? { low: 'true' as const } : {}),
              limit: PAGE_SIZE,
              offset: f.offset,
            },
          },
        }),
      ),
    [params.toString()],
  );
  useLive((e) => e.type.startsWith('material') || e.type.startsWith('alarm'), list.reload, 1000);
  const canRestock = session.can('device:write');
  const materials = useMaterialCodes();
  return (
    <Page title="Materials">
      <form
        class="filters"
        aria-label="Filters"
        onSubmit={(e) => {
          e.preventDefault();
          set({ deviceId: String(new FormData(e.currentTarget).get('deviceId') ?? '') });
        }}
      >
        <Field label="Machine">
          <input name="deviceId" defaultValue={f.deviceId} />
        </Field>
        <Field label="Material">
          <select value={f.material} onChange={(e) => set({ material: e.currentTarget.value })}>
            <option value="">All</option>
            {materials.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </Field>
        <label class="check">
          <input
            type="checkbox"
            checked={f.low === 'true'}
            onChange={(e) => set({ low: e.currentTarget.checked ? 'true' : '' })}
          />{' '}
          Low only
        </label>
        <button type="submit">Apply</button>
      </form>
      <ErrorNote error={list.error} />
      {f.deviceId && session.can('device:command') ? <PushBinding deviceId={f.deviceId} /> : null}
      <Table
        caption="Material bins"
        columns={[
          {
            key: 'machine',
            label: 'Machine',
            render: (b) => <a href={`#/machines/${b.deviceId}`}>{b.deviceId}</a>,
          },
          { key: 'bin', label: 'Bin', render: (b) => b.bin },
          { key: 'material', label: 'Material', render: (b) => b.material },
          {
            key: 'level',
            label: 'Level',
            render: (b) => (
              <span data-testid={`level-${b.deviceId}-${b.material}`}>
                {Math.round(b.percent)} % {b.low ? <Badge value="low" /> : null}
              </span>
            ),
          },
          { key: 'thresholds', label: 'Low / high', render: (b) => `${b.lowThreshold} / ${b.highThreshold}` },
          { key: 'capacity', label: 'Capacity', render: (b) => b.capacity },
          { key: 'at', label: 'Measured', render: (b) => when(b.levelAt) },
          ...(canRestock
            ? [
                {
                  key: 'restock',
                  label: 'Restock',
                  render: (b: { deviceId: string; material: string }) => (
                    <ActionButton
                      label={
                        b.material === 'waste'
                          ? `Empty ${b.deviceId} waste`
                          : `Refill ${b.deviceId} ${b.material}`
                      }
                      run={async () =>
                        must(
                          await api.POST('/api/v1/materials/bins/{deviceId}/{material}/restock', {
                            params: { path: { deviceId: b.deviceId, material: b.material } },
                            body: { note: 'restocked from the console' },
                          }),
                        )
                      }
                      onDone={list.reload}
                    />
                  ),
                },
                {
                  key: 'binding',
                  label: 'Binding',
                  render: (b: { deviceId: string; bin: number; material: string }) => (
                    <BindBin bin={b} materials={materials} onDone={list.reload} />
                  ),
                },
              ]
            : []),
        ]}
        rows={list.data?.items ?? []}
        rowKey={(b) => b.id}
        empty={list.loading ? 'Loading…' : 'No bins match.'}
      />
      {list.data ? (
        <Pager
          total={list.data.total}
          limit={PAGE_SIZE}
          offset={f.offset}
          onPage={(offset) => set({ ...f, offset })}
        />
      ) : null}
      <Catalog />
    </Page>
  );
}
