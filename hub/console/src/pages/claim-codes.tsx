import { useState } from 'preact/hooks';
import { api, must } from '../api/client';
import type { paths } from '../api/schema';
import { session } from '../api/session';
import { SecretDialog } from '../ui/dialog';
import { when } from '../ui/format';
import { navigate, useQuery, useRoute } from '../ui/hooks';
import { ActionButton, Badge, type Column, ErrorNote, Field, Page, Pager, Table } from '../ui/widgets';
import { MerchantField, useMerchants } from './merchant-field';

type ClaimCode =
  paths['/api/v1/claim-codes']['get']['responses'][200]['content']['application/json']['items'][number];
type Status = ClaimCode['status'];
const STATUSES: Status[] = ['pending', 'claimed', 'expired', 'revoked'];
const PAGE_SIZE = 25;
const HOUR = 3_600_000;
const VALIDITY = [
  { label: '1 hour', ms: HOUR },
  { label: '24 hours', ms: 24 * HOUR },
  { label: '3 days', ms: 72 * HOUR },
  { label: '7 days', ms: 168 * HOUR },
];

/** One-time codes a machine trades for its own credential: issue (shown once), list by status, revoke. */
export function ClaimCodes() {
  const { params } = useRoute();
  const raw = params.get('status') ?? '';
  const status = STATUSES.find((s) => s === raw);
  const offset = Number(params.get('offset') ?? 0);
  const list = useQuery(
    async () =>
      must(
        await api.GET('/api/v1/claim-codes', {
          params: { query: { limit: PAGE_SIZE, offset, ...(status ? { status } : {}) } },
        }),
      ),
    [status, offset],
  );
  const locations = useQuery(
    async () => must(await api.GET('/api/v1/locations', { params: { query: { limit: 200 } } })).items,
    [],
  );
  const merchants = useMerchants();
  const [issuing, setIssuing] = useState(false);
  /** The code just issued, held only while its dialog is open. */
  const [issued, setIssued] = useState<{ code: string; expiresAt: number } | null>(null);
  const place = (id: string | null) => locations.data?.find((l) => l.id === id)?.name ?? id ?? '—';
  const columns: Column<ClaimCode>[] = [
    { key: 'status', label: 'Status', render: (c) => <Badge value={c.status} /> },
    { key: 'location', label: 'Location', render: (c) => place(c.locationId) },
    {
      key: 'pinned',
      label: 'Only for',
      render: (c) => [c.expectedDeviceId, c.expectedModel].filter(Boolean).join(' / ') || 'any machine',
    },
    { key: 'note', label: 'Note', render: (c) => c.note ?? '—' },
    { key: 'issued', label: 'Issued', render: (c) => when(c.createdAt) },
    { key: 'expires', label: 'Expires', render: (c) => when(c.expiresAt) },
    {
      key: 'claimed',
      label: 'Claimed by',
      render: (c) =>
        c.claimedDeviceId ? (
          <>
            <a href={`#/machines/${c.claimedDeviceId}`}>{c.claimedDeviceId}</a> {when(c.claimedAt)} from{' '}
            {c.claimedIp ?? '?'}
          </>
        ) : (
          '—'
        ),
    },
    {
      key: 'act',
      label: 'Actions',
      render: (c) =>
        c.status === 'pending' ? (
          <ActionButton
            label="Revoke"
            kind="danger"
            ariaLabel={`Revoke the code for ${place(c.locationId)} issued ${when(c.createdAt)}`}
            confirm="Revoke this claim code? A machine can no longer use it."
            run={async () =>
              must(await api.POST('/api/v1/claim-codes/{id}/revoke', { params: { path: { id: c.id } } }))
            }
            onDone={list.reload}
          />
        ) : (
          '—'
        ),
    },
  ];
  return (
    <Page
      title="Claim codes"
      actions={
        session.can('device:write') ? (
          <button type="button" class="primary" onClick={() => setIssuing(true)}>
            Issue claim code
          </button>
        ) : null
      }
    >
      <p class="muted">
        A machine given a code registers itself and receives its own credential (agent config{' '}
        <code>hub.claimCode</code>). <a href="#/machines">← Machines</a>
      </p>
      {issued ? (
        <SecretDialog
          title="Claim code"
          note={`Enter it on the machine before ${when(issued.expiresAt)}: it is shown this once and works once.`}
          secret={issued.code}
          onClose={() => setIssued(null)}
        />
      ) : null}
      {issuing ? (
        <Issue
          locations={locations.data ?? []}
          merchants={merchants.data ?? []}
          onIssued={(r) => {
            setIssuing(false);
            setIssued(r);
            list.reload();
          }}
          onCancel={() => setIssuing(false)}
        />
      ) : null}
      <div class="filters">
        <Field label="Status">
          <select
            value={status ?? ''}
            onChange={(e) => navigate('/claim-codes', { status: e.currentTarget.value })}
          >
            <option value="">All</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <ErrorNote error={list.error} />
      <Table caption="Claim codes" columns={columns} rows={list.data?.items ?? []} rowKey={(c) => c.id} />
      {list.data ? (
        <Pager
          total={list.data.total}
          limit={PAGE_SIZE}
          offset={offset}
          onPage={(o) => navigate('/claim-codes', { status, offset: o || undefined })}
        />
      ) : null}
    </Page>
  );
}

function Issue(props: {
  locations: { id: string; name: string; merchantId: string }[];
  merchants: { id: string; name: string }[];
  onIssued: (r: { code: string; expiresAt: number }) => void;
  onCancel: () => void;
}) {
  const superadmin = session.me?.role === 'superadmin';
  const [merchantId, setMerchantId] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const text = (k: string) => String(form.get(k) ?? '').trim() || undefined;
    try {
      const r = must(
        await api.POST('/api/v1/claim-codes', {
          body: {
            locationId: text('locationId') ?? '',
            ttlMs: Number(text('ttlMs') ?? 24 * HOUR),
            ...(text('merchantId') ? { merchantId: text('merchantId') } : {}),
            ...(text('deviceId') ? { deviceId: text('deviceId') } : {}),
            ...(text('model') ? { model: text('model') } : {}),
            ...(text('note') ? { note: text('note') } : {}),
          },
        }),
      );
      props.onIssued({ code: r.code, expiresAt: r.claimCode.expiresAt });
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form class="card" onSubmit={submit} aria-labelledby="claim-title">
      <h2 id="claim-title">Issue a claim code</h2>
      <div class="filters">
        <MerchantField merchants={props.merchants} value={merchantId} onChange={setMerchantId} />
        <Field label="Location">
          <select name="locationId" required>
            <option value="">Choose…</option>
            {props.locations
              .filter((l) => !superadmin || l.merchantId === merchantId)
              .map((l) => (
                <option key={l.id} value={l.id}>
                  {l.name}
                </option>
              ))}
          </select>
        </Field>
        <Field label="Valid for">
          <select name="ttlMs">
            {VALIDITY.map((v) => (
              <option key={v.ms} value={v.ms} selected={v.ms === 24 * HOUR}>
                {v.label}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Only machine id (optional)">
          <input name="deviceId" pattern="[a-z0-9][a-z0-9_\-]{2,63}" />
        </Field>
        <Field label="Only model (optional)">
          <input name="model" />
        </Field>
        <Field label="Note">
          <input name="note" maxLength={200} />
        </Field>
      </div>
      <ErrorNote error={error} />
      <button type="submit" class="primary">
        Issue
      </button>{' '}
      <button type="button" onClick={props.onCancel}>
        Cancel
      </button>
    </form>
  );
}
