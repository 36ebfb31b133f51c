import { useState } from 'preact/hooks';
import { api, must } from '../api/client';
import { session } from '../api/session';
import { ago } from '../ui/format';
import { useLive, useQuery } from '../ui/hooks';
import { ActionButton, Badge, ErrorNote, Page, Table } from '../ui/widgets';
import { AssigneeSelect, useAssignees } from './assignees';
import { useMerchants } from './merchant-field';
import { WorkOrderPanel } from './work-order';

type Status = 'open' | 'assigned' | 'in_progress' | 'resolved' | 'closed';
const COLUMNS: Status[] = ['open', 'assigned', 'in_progress', 'resolved', 'closed'];
/** The hub's allowed moves (hub/src/operations/workorders/state.ts); the API refuses any other. */
const NEXT: Record<Status, Status[]> = {
  open: ['assigned'],
  assigned: ['in_progress', 'open'],
  in_progress: ['resolved'],
  resolved: ['closed', 'in_progress'],
  closed: [],
};
const CARDS_PER_COLUMN = 20;

export function Alarms() {
  const canWrite = session.can('device:write');
  const alarms = useQuery(
    async () => must(await api.GET('/api/v1/alarms', { params: { query: { status: 'open', limit: 25 } } })),
    [],
  );
  const board = useQuery(
    () =>
      Promise.all(
        COLUMNS.map(async (status) =>
          must(
            await api.GET('/api/v1/work-orders', { params: { query: { status, limit: CARDS_PER_COLUMN } } }),
          ),
        ),
      ),
    [],
  );
  useLive(
    (e) => e.type.startsWith('alarm') || e.type.startsWith('work'),
    () => {
      alarms.reload();
      board.reload();
    },
    500,
  );
  const people = useAssignees(undefined);
  const merchants = useMerchants();
  // Oneself by default when one may take work orders; the hub refuses anyone not of the card's merchant.
  const [picked, setPicked] = useState(session.me?.id ?? '');
  const assigneeId = people.data?.some((u) => u.id === picked) ? picked : '';
  const [open, setOpen] = useState<string | null>(null);
  return (
    <Page title="Alarms and work orders">
      <section class="card">
        <h2>Open alarms</h2>
        <ErrorNote error={alarms.error} />
        <Table
          caption="Open alarms"
          columns={[
            { key: 'sev', label: 'Severity', render: (a) => <Badge value={a.severity} /> },
            {
              key: 'machine',
              label: 'Machine',
              render: (a) => <a href={`#/machines/${a.deviceId}`}>{a.deviceId}</a>,
            },
            {
              key: 'code',
              label: 'Alarm',
              render: (a) => <span data-testid={`alarm-${a.deviceId}-${a.code}`}>{a.code}</span>,
            },
            { key: 'status', label: 'Status', render: (a) => <Badge value={a.status} /> },
            { key: 'raised', label: 'Raised', render: (a) => ago(a.raisedAt) },
            ...(canWrite
              ? [
                  {
                    key: 'act',
                    label: 'Actions',
                    render: (a: { id: string; status: string; deviceId: string; code: string }) => (
                      <span class="actions">
                        {a.status === 'raised' ? (
                          <ActionButton
                            label="Acknowledge"
                            run={async () =>
                              must(
                                await api.POST('/api/v1/alarms/{id}/acknowledge', {
                                  params: { path: { id: a.id } },
                                }),
                              )
                            }
                            onDone={alarms.reload}
                          />
                        ) : null}
                        <ActionButton
                          label="Clear"
                          ariaLabel={`Clear ${a.code} on ${a.deviceId}`}
                          confirm={`Clear ${a.code} on ${a.deviceId}? A machine that still reports it raises it again.`}
                          run={async () =>
                            must(
                              await api.POST('/api/v1/alarms/{id}/clear', { params: { path: { id: a.id } } }),
                            )
                          }
                          onDone={alarms.reload}
                        />
                        <ActionButton
                          label="Work order"
                          run={async () =>
                            must(
                              await api.POST('/api/v1/work-orders', {
                                body: {
                                  deviceId: a.deviceId,
                                  alarmId: a.id,
                                  title: `${a.code} on ${a.deviceId}`,
                                },
                              }),
                            )
                          }
                          onDone={board.reload}
                        />
                      </span>
                    ),
                  },
                ]
              : []),
          ]}
          rows={alarms.data?.items ?? []}
          rowKey={(a) => a.id}
          empty="No open alarms."
        />
      </section>
      <section aria-labelledby="board-title">
        <h2 id="board-title">Work orders</h2>
        {canWrite ? (
          <AssigneeSelect
            people={people.data ?? []}
            merchants={merchants.data}
            value={assigneeId}
            onChange={setPicked}
          />
        ) : null}
        <ErrorNote error={people.error} />
        <ErrorNote error={board.error} />
        {open ? <WorkOrderPanel id={open} onChange={board.reload} onClose={() => setOpen(null)} /> : null}
        <div class="board">
          {COLUMNS.map((status, i) => {
            const page = board.data?.[i];
            return (
              <section
                class="column"
                key={status}
                aria-label={`${status.replace('_', ' ')} work orders`}
                data-column={status}
              >
                <h3>
                  {status.replace('_', ' ')} <span class="muted">{page?.total ?? ''}</span>
                </h3>
                {(page?.items ?? []).map((w) => (
                  <article class="wo" key={w.id} data-testid={`wo-${w.id}`}>
                    <h4>
                      <button type="button" class="link" onClick={() => setOpen(w.id)}>
                        {w.title}
                      </button>
                    </h4>
                    <p class="muted">
                      <Badge value={w.priority} />{' '}
                      {w.deviceId ? <a href={`#/machines/${w.deviceId}`}>{w.deviceId}</a> : null}{' '}
                      {w.assignee ? `· ${w.assigneeName ?? w.assignee}` : ''}
                    </p>
                    {canWrite ? (
                      <div class="actions">
                        {NEXT[w.status].map((to) => (
                          <ActionButton
                            key={to}
                            label={`→ ${to.replace('_', ' ')}`}
                            run={async () =>
                              must(
                                await api.POST('/api/v1/work-orders/{id}/transition', {
                                  params: { path: { id: w.id } },
                                  body: { to, ...(to === 'assigned' && assigneeId ? { assigneeId } : {}) },
                                }),
                              )
                            }
                            onDone={board.reload}
                          />
                        ))}
                      </div>
                    ) : null}
                  </article>
                ))}
              </section>
            );
          })}
        </div>
      </section>
    </Page>
  );
}
