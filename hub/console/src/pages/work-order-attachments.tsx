import { useState } from 'preact/hooks';
import { api, download, must } from '../api/client';
import { problemText, session } from '../api/session';
import { when } from '../ui/format';
import { useQuery } from '../ui/hooks';
import { ActionButton, ErrorNote } from '../ui/widgets';

const ACCEPT = 'image/jpeg,image/png,image/webp,application/pdf';

/** Streams the file as the request body (the hub judges its type from the bytes); one retry after a refresh. */
async function upload(workOrderId: string, file: File): Promise<void> {
  const send = () =>
    fetch(`/api/v1/work-orders/${encodeURIComponent(workOrderId)}/attachments`, {
      method: 'POST',
      body: file,
      headers: {
        'content-type': 'application/octet-stream',
        'x-file-name': encodeURIComponent(file.name),
        ...(session.token ? { authorization: `Bearer ${session.token}` } : {}),
      },
    });
  let res = await send();
  if (res.status === 401 && (await session.refresh())) res = await send();
  if (!res.ok) throw new Error(problemText(await res.json().catch(() => null), res.status));
}

const size = (n: number) =>
  n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`;

/** Photos and manuals of one work order: list, download, upload (JPEG, PNG, WebP, PDF) and delete. */
export function WorkOrderAttachments(props: { workOrderId: string; writable: boolean }) {
  const q = useQuery(
    async () =>
      must(
        await api.GET('/api/v1/work-orders/{id}/attachments', {
          params: { path: { id: props.workOrderId } },
        }),
      ),
    [props.workOrderId],
  );
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const items = q.data?.items ?? [];
  return (
    <section aria-labelledby="wo-attachments">
      <h3 id="wo-attachments">Attachments</h3>
      <ErrorNote error={q.error ?? error} />
      {items.length === 0 ? <p class="muted">No attachments.</p> : null}
      <ul class="plain" data-testid="wo-attachments">
        {items.map((a) => (
          <li key={a.id}>
            <ActionButton
              label={`Download ${a.fileName}`}
              run={() =>
                download(`/api/v1/work-orders/${props.workOrderId}/attachments/${a.id}`, {}, a.fileName)
              }
            />{' '}
            <span class="muted">
              {a.contentType} · {size(a.size)} · {when(a.createdAt)}
            </span>{' '}
            {props.writable ? (
              <ActionButton
                label={`Delete ${a.fileName}`}
                kind="danger"
                confirm={`Delete ${a.fileName}?`}
                run={async () =>
                  must(
                    await api.DELETE('/api/v1/work-orders/{id}/attachments/{attachmentId}', {
                      params: { path: { id: props.workOrderId, attachmentId: a.id } },
                    }),
                  )
                }
                onDone={q.reload}
              />
            ) : null}
          </li>
        ))}
      </ul>
      {props.writable ? (
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            const form = e.currentTarget as HTMLFormElement;
            const file = (form.elements.namedItem('file') as HTMLInputElement).files?.[0];
            if (!file) return;
            setBusy(true);
            try {
              await upload(props.workOrderId, file);
              setError(null);
              form.reset();
              q.reload();
            } catch (err) {
              setError((err as Error).message);
            } finally {
              setBusy(false);
            }
          }}
        >
          <label class="field">
            <span>Photo or manual (JPEG, PNG, WebP, PDF)</span>
            <input name="file" type="file" accept={ACCEPT} required />
          </label>
          <button type="submit" disabled={busy}>
            Upload
          </button>
        </form>
      ) : null}
    </section>
  );
}
