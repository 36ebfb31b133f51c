import { useState } from 'preact/hooks';
import { api, must } from '../api/client';
import { session } from '../api/session';
import { when } from '../ui/format';
import { useQuery } from '../ui/hooks';
import { ActionButton, Badge, ErrorNote } from '../ui/widgets';
import { AssigneeSelect, useAssignees } from './assignees';
import { WorkOrderAttachments } from './work-order-attachments';

type Status = 'open' | 'assigned' | 'in_progress' | 'resolved' | 'closed';
/** The moves that finish work (the board offers the others); resolving or closing may clear the alarm. */
const FINISH: Partial<Record<Status, Status>> = { in_progress: 'resolved', resolved: 'closed' };
/** Why an alarm stays open after its work order was resolved (the hub's reason codes). */
const ALARM_REASONS: Record<string, string> = {
  DEVICE_STILL_REPORTS: 'the machine still reports it',
  STOCK_STILL_LOW: 'the stock is still low',
  CONDITION_STILL_PRESENT: "the hub's check still finds the condition",
};

/** One work order: its history, comments, assignment, attachments and what became of its alarm. */
export function WorkOrderPanel(props: { id: string; onChange: () => void; onClose: () => void }) {
  const q = useQuery(
    async () => must(await api.GET('/api/v1/work-orders/{id}', { params: { path: { id: props.id } } })),
    [props.id],
  );
  const [error, setError] = useState<string | null>(null);
  const canWrite = session.can('device:write');
  const merchantId = q.data?.merchantId;
  const people = useAssignees(merchantId, merchantId !== undefined);
  const [alarmNote, setAlarmNote] = useState<string | null>(null);
  const act = (run: () => Promise<unknown>) => async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    try {
      await run();
      setError(null);
      form.reset();
      q.reload();
      props.onChange();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const value = (e: Event, name: string) =>
    String(new FormData(e.currentTarget as HTMLFormElement).get(name) ?? '');
  const w = q.data;
  return (
    <section class="card" aria-labelledby="wo-title">
      <div class="page-head">
        <h2 id="wo-title">{w ? w.title : 'Work order'}</h2>
        <div class="actions">
          <button type="button" onClick={props.onClose}>
            Close details
          </button>
        </div>
      </div>
      <ErrorNote error={q.error ?? error} />
      {w ? (
        <>
          <dl class="facts">
            <dt>Status</dt>
            <dd>
              <Badge value={w.status} />
            </dd>
            <dt>Priority</dt>
            <dd>{w.priority}</dd>
            <dt>Machine</dt>
            <dd>{w.deviceId ? <a href={`#/machines/${w.deviceId}`}>{w.deviceId}</a> : '—'}</dd>
            <dt>Assignee</dt>
            <dd data-testid="wo-assignee">
              {w.assigneeId ? `${w.assigneeName ?? w.assignee ?? w.assigneeId} (${w.assignee ?? ''})` : '—'}
            </dd>
            <dt>Description</dt>
            <dd>{w.description ?? '—'}</dd>
          </dl>
          {alarmNote ? (
            <p class="note" role="status" data-testid="wo-alarm-note">
              {alarmNote}
            </p>
          ) : null}
          {canWrite && FINISH[w.status] ? (
            <div class="actions">
              <ActionButton
                label={`Mark ${FINISH[w.status]}`}
                run={async () => {
                  const to = FINISH[w.status] ?? 'resolved';
                  const r = must(
                    await api.POST('/api/v1/work-orders/{id}/transition', {
                      params: { path: { id: props.id } },
                      body: { to },
                    }),
                  );
                  const f = r.alarmFollowUp;
                  setAlarmNote(
                    !f
                      ? null
                      : f.result === 'kept'
                        ? `The alarm stays open because ${ALARM_REASONS[f.reason ?? ''] ?? f.message} (${f.reason}).`
                        : f.result === 'cleared'
                          ? 'The alarm was cleared.'
                          : null,
                  );
                }}
                onDone={() => {
                  q.reload();
                  props.onChange();
                }}
              />
            </div>
          ) : null}
          <h3>History</h3>
          <ol class="plain" data-testid="wo-history">
            {w.events.map((e) => (
              <li key={e.id}>
                {when(e.createdAt)} · {e.createdBy} ·{' '}
                {e.kind === 'comment'
                  ? e.body
                  : e.kind === 'alarm'
                    ? `alarm: ${e.code && ALARM_REASONS[e.code] ? `stays, ${ALARM_REASONS[e.code]}` : (e.body ?? '')}`
                    : e.kind === 'assign'
                      ? e.code
                        ? `unassigned ${e.body ?? ''} (${e.code})`
                        : `assigned ${e.body ?? ''}`
                      : `${e.fromStatus ?? ''} → ${e.toStatus ?? ''}`}
              </li>
            ))}
          </ol>
          {canWrite && w.status !== 'closed' ? (
            <div class="grid2">
              <form
                onSubmit={(e) => {
                  const body = value(e, 'comment');
                  return act(async () =>
                    must(
                      await api.POST('/api/v1/work-orders/{id}/comments', {
                        params: { path: { id: props.id } },
                        body: { body },
                      }),
                    ),
                  )(e);
                }}
              >
                <label class="field">
                  <span>Comment</span>
                  <input name="comment" required maxLength={2000} />
                </label>
                <button type="submit">Add comment</button>
              </form>
              <form
                onSubmit={(e) => {
                  const assigneeId = value(e, 'assigneeId');
                  return act(async () =>
                    must(
                      await api.POST('/api/v1/work-orders/{id}/assign', {
                        params: { path: { id: props.id } },
                        body: { assigneeId },
                      }),
                    ),
                  )(e);
                }}
              >
                <AssigneeSelect name="assigneeId" required people={people.data ?? []} value={w.assigneeId} />
                <button type="submit">Assign</button>
              </form>
            </div>
          ) : null}
          <WorkOrderAttachments workOrderId={props.id} writable={canWrite && w.status !== 'closed'} />
        </>
      ) : null}
    </section>
  );
}
