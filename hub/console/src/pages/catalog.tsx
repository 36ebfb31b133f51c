import { useState } from 'preact/hooks';
import { api, must } from '../api/client';
import { problemText, session } from '../api/session';
import { useQuery } from '../ui/hooks';
import { ErrorNote, Pager, Table } from '../ui/widgets';

const PAGE_SIZE = 10;

/** The merchant's materials catalog, and a CSV import that lists each bad row's error (nothing is written then). */
export function Catalog() {
  const [offset, setOffset] = useState(0);
  const list = useQuery(
    async () =>
      must(await api.GET('/api/v1/materials/catalog', { params: { query: { limit: PAGE_SIZE, offset } } })),
    [offset],
  );
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [rows, setRows] = useState<{ path: string; message: string }[]>([]);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const file = form.get('file');
    const csv = file instanceof File && file.size > 0 ? await file.text() : String(form.get('csv') ?? '');
    setResult(null);
    setRows([]);
    const merchantId = String(form.get('merchantId') ?? '').trim();
    const res = await api.POST('/api/v1/materials/catalog/import', {
      body: { csv },
      ...(merchantId ? { params: { query: { merchantId } } } : {}),
    });
    if (res.error !== undefined || !res.data) {
      const problem = res.error as { issues?: { path: string; message: string }[] } | undefined;
      setError(problemText(res.error, res.response.status));
      setRows(problem?.issues ?? []);
      return;
    }
    setError(null);
    setResult(`${res.data.rows} rows: ${res.data.created} created, ${res.data.updated} updated`);
    list.reload();
  };
  return (
    <section class="card" aria-labelledby="catalog-title">
      <h2 id="catalog-title">Catalog</h2>
      <ErrorNote error={list.error} />
      <Table
        caption="Catalog items"
        columns={[
          { key: 'sku', label: 'SKU', render: (i) => i.sku },
          { key: 'name', label: 'Name', render: (i) => i.name },
          { key: 'material', label: 'Material', render: (i) => i.material },
          { key: 'pack', label: 'Pack', render: (i) => `${i.packSize} ${i.unit}` },
        ]}
        rows={list.data?.items ?? []}
        rowKey={(i) => i.id}
        empty="No catalog items."
      />
      {list.data ? (
        <Pager total={list.data.total} limit={PAGE_SIZE} offset={offset} onPage={setOffset} />
      ) : null}
      {session.can('device:write') ? (
        <form onSubmit={submit} aria-labelledby="import-title">
          <h3 id="import-title">Import CSV</h3>
          <p class="muted">
            Columns: sku,name,material,unit,pack_size. A file with any bad row imports nothing.
          </p>
          {session.me?.role === 'superadmin' ? (
            <label class="field">
              <span>For merchant id</span>
              <input name="merchantId" required />
            </label>
          ) : null}
          <label class="field">
            <span>CSV file</span>
            <input name="file" type="file" accept=".csv,text/csv" />
          </label>
          <label class="field">
            <span>or paste CSV</span>
            <textarea name="csv" rows={4} />
          </label>
          <ErrorNote error={error} />
          {rows.length ? (
            <ul class="plain error" data-testid="import-errors">
              {rows.map((r) => (
                <li key={`${r.path}-${r.message}`}>
                  {r.path}: {r.message}
                </li>
              ))}
            </ul>
          ) : null}
          {result ? <p role="status">{result}</p> : null}
          <button type="submit">Import</button>
        </form>
      ) : null}
    </section>
  );
}
