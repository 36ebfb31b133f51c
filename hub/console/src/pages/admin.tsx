import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { api, download, must } from '../api/client';
import { session } from '../api/session';
import { when } from '../ui/format';
import { navigate, useQuery, useRoute } from '../ui/hooks';
import { type Column, ErrorNote, Page, Pager, Table } from '../ui/widgets';
import { AuditFilters, auditFilterOf, auditQuery, useActors } from './admin-audit';
import { CreateForm } from './admin-forms';
import { LocationActions, MerchantActions } from './admin-rows';
import { UserActions } from './admin-users';

const PAGE_SIZE = 25;
type Kind = 'users' | 'merchants' | 'locations' | 'audit';
const WRITE = { users: 'user:write', merchants: 'merchant:write', locations: 'location:write' } as const;
const TITLES: Record<Kind, string> = {
  users: 'Users',
  merchants: 'Merchants',
  locations: 'Locations',
  audit: 'Audit log',
};

/** The administration lists: users, merchants, locations and the audit log (filter and export). */
export function AdminPage(props: { kind: Kind }) {
  const { kind } = props;
  const { params } = useRoute();
  const offset = Number(params.get('offset') ?? 0);
  const auditFilter = auditFilterOf(params);
  const actors = useActors(kind === 'audit');
  // Edit and delete per row for the roles that may write the list (the API checks again).
  const canWrite = kind !== 'audit' && session.can(WRITE[kind]);
  const actions = canWrite ? ['Actions'] : [];
  const [exportError, setExportError] = useState<string | null>(null);
  const page = { limit: PAGE_SIZE, offset };
  const q = useQuery(async (): Promise<{ total: number; rows: Row[] }> => {
    switch (kind) {
      case 'users': {
        const r = must(await api.GET('/api/v1/users', { params: { query: page } }));
        return {
          total: r.total,
          rows: r.items.map((u) => ({
            id: u.id,
            cells: [
              u.email,
              u.name ?? '—',
              u.role.replace('_', ' '),
              u.merchantId ?? 'all',
              when(u.createdAt),
              ...(canWrite ? [<UserActions user={u} onDone={() => q.reload()} />] : []),
            ],
          })),
        };
      }
      case 'merchants': {
        const r = must(await api.GET('/api/v1/merchants', { params: { query: page } }));
        return {
          total: r.total,
          rows: r.items.map((m) => ({
            id: m.id,
            cells: [
              m.id,
              m.name,
              m.timeZone,
              when(m.createdAt),
              ...(canWrite ? [<MerchantActions merchant={m} onDone={() => q.reload()} />] : []),
            ],
          })),
        };
      }
      case 'locations': {
        const r = must(await api.GET('/api/v1/locations', { params: { query: page } }));
        return {
          total: r.total,
          rows: r.items.map((l) => ({
            id: l.id,
            cells: [
              l.name,
              l.address ?? '—',
              l.merchantId,
              <a href={`#/machines?locationId=${l.id}`}>machines</a>,
              ...(canWrite ? [<LocationActions location={l} onDone={() => q.reload()} />] : []),
            ],
          })),
        };
      }
      case 'audit': {
        const r = must(
          await api.GET('/api/v1/audit-log', {
            params: { query: { ...page, ...auditQuery(auditFilter) } },
          }),
        );
        return {
          total: r.total,
          rows: r.items.map((a) => ({
            id: a.id,
            cells: [
              when(a.at),
              a.action,
              a.targetId ? (
                <a href={`#/audit?targetType=${enc(a.targetType)}&targetId=${enc(a.targetId)}`}>
                  {a.targetType} {a.targetId}
                </a>
              ) : (
                a.targetType
              ),
              // Named at render time: the actors' emails may arrive after the entries.
              (names: Map<string, string>) =>
                a.actorUserId ? (
                  <a href={`#/audit?actorUserId=${enc(a.actorUserId)}`}>
                    {names.get(a.actorUserId) ?? a.actorUserId} ({a.actorRole ?? '—'})
                  </a>
                ) : (
                  `hub (${a.actorRole ?? 'system'})`
                ),
              a.ip ?? '—',
            ],
          })),
        };
      }
    }
  }, [kind, params.toString()]);
  const headers: Record<Kind, string[]> = {
    users: ['Email', 'Name', 'Role', 'Merchant', 'Created', ...actions],
    merchants: ['Id', 'Name', 'Time zone', 'Created', ...actions],
    locations: ['Name', 'Address', 'Merchant', 'Machines', ...actions],
    audit: ['At', 'Action', 'Target', 'Actor', 'Address'],
  };
  const columns: Column<Row>[] = headers[kind].map((label, i) => ({
    key: label,
    label,
    render: (r) => {
      const cell = r.cells[i];
      return typeof cell === 'function' ? cell(actors.data ?? new Map()) : cell;
    },
  }));
  return (
    <Page
      title={TITLES[kind]}
      actions={
        kind === 'audit' ? (
          <button
            type="button"
            onClick={() =>
              download('/api/v1/audit-log/export.csv', auditQuery(auditFilter), 'audit-log.csv').catch(
                (e: Error) => setExportError(e.message),
              )
            }
          >
            Export CSV
          </button>
        ) : null
      }
    >
      {kind === 'audit' ? <AuditFilters filter={auditFilter} actors={actors.data ?? new Map()} /> : null}
      {kind !== 'audit' && canWrite ? <CreateForm kind={kind} onDone={q.reload} /> : null}
      <ErrorNote error={q.error ?? exportError} />
      <Table
        caption={TITLES[kind]}
        columns={columns}
        rows={q.data?.rows ?? []}
        rowKey={(r) => r.id}
        empty={q.loading ? 'Loading…' : 'None.'}
      />
      {q.data ? (
        <Pager
          total={q.data.total}
          limit={PAGE_SIZE}
          offset={offset}
          onPage={(o) => navigate(`/${kind}`, { ...(kind === 'audit' ? auditFilter : {}), offset: o })}
        />
      ) : null}
    </Page>
  );
}

const enc = encodeURIComponent;

interface Row {
  id: string;
  cells: (ComponentChildren | ((names: Map<string, string>) => ComponentChildren))[];
}
