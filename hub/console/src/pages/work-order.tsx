import { useState } from 'preact/hooks';
import { api, must } from '../api/client';
import { session } from '../api/session';
import { when } from '../ui/format';
import { useQuery } from '../ui/hooks';
import { Badge, ErrorNote } from '../ui/widgets';

/** One work order: its history, comments and assignment. */
export function WorkOrderPanel(props: { id: string; onChange: () => void; onClose: () => void }) {
  const q = useQuery(
    async () => must(await api.GET('/api/v1/work-orders/{id}', { params: { path: { id: props.id } } })),
    [props.id],
  );
  const [error, setError] = useState<string | null>(null);
  const canWrite = session.can('device:write');
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
            <dd>{w.assignee ?? '—'}</dd>
            <dt>Description</dt>
            <dd>{w.description ?? '—'}</dd>
          </dl>
          <h3>History</h3>
          <ol class="plain" data-testid="wo-history">
            {w.events.map((e) => (
              <li key={e.id}>
                {when(e.createdAt)} · {e.createdBy} ·{' '}
                {e.kind === 'comment'
                  ? e.body
                  : e.kind === 'assign'
                    ? `assigned ${e.body ?? ''}`
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
                  const assignee = value(e, 'assignee');
                  return act(async () =>
                    must(
                      await api.POST('/api/v1/work-orders/{id}/assign', {
                        params: { path: { id: props.id } },
                        body: { assignee },
                      }),
                    ),
                  )(e);
                }}
              >
                <label class="field">
                  <span>Assign to</span>
                  <input name="assignee" required maxLength={120} />
                </label>
                <button type="submit">Assign</button>
              </form>
            </div>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
