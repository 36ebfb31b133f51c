import { useState } from 'preact/hooks';
import { api, must } from '../api/client';
import type { paths } from '../api/schema';
import { session } from '../api/session';
import { SecretDialog } from '../ui/dialog';
import { ago, when } from '../ui/format';
import { navigate, useQuery, useRoute } from '../ui/hooks';
import { ActionButton, Badge, type Column, ErrorNote, Field, Page, Pager, Table } from '../ui/widgets';
import { MerchantField, useMerchants } from './merchant-field';

type CreateBody = paths['/api/v1/api-keys']['post']['requestBody']['content']['application/json'];
type KeyPermission = CreateBody['permissions'][number];
type ApiKey =
  paths['/api/v1/api-keys']['get']['responses'][200]['content']['application/json']['items'][number];

/**
 * What a key may be granted (the hub's create schema: never users, keys, merchants or platform-wide changes).
 * A Record so a permission the hub adds to that list fails the type check until it is described here.
 */
const KEY_PERMISSIONS: Record<KeyPermission, string> = {
  'location:read': 'read locations',
  'location:write': 'edit locations',
  'device:read': 'read machines',
  'device:write': 'register and edit machines',
  'device:command': 'send commands',
  'telemetry:read': 'read telemetry',
  'order:read': 'read orders',
  'order:refund': 'refund orders',
  'finance:read': 'read finance and audit counters',
  'audit:read': 'read the audit log',
  'webhook:read': 'read webhooks',
  'webhook:write': 'manage webhooks',
  'artifact:read': 'read update artifacts',
  'counters:reset': 'reset audit counters',
};
const PAGE_SIZE = 25;

/** API keys of integrations: list, create and rotate (the key shown once), revoke. */
export function ApiKeys() {
  const { params } = useRoute();
  const offset = Number(params.get('offset') ?? 0);
  const list = useQuery(
    async () => must(await api.GET('/api/v1/api-keys', { params: { query: { limit: PAGE_SIZE, offset } } })),
    [offset],
  );
  const canWrite = session.can('api_key:write');
  const merchants = useMerchants();
  const [creating, setCreating] = useState(false);
  /** A created or rotated key, held only while its dialog is open. */
  const [secret, setSecret] = useState<{ title: string; key: string } | null>(null);
  const columns: Column<ApiKey>[] = [
    { key: 'name', label: 'Name', render: (k) => k.name },
    { key: 'prefix', label: 'Prefix', render: (k) => <code>{k.prefix}</code> },
    ...(session.me?.role === 'superadmin'
      ? [
          {
            key: 'merchant',
            label: 'Merchant',
            render: (k: ApiKey) => merchants.data?.find((m) => m.id === k.merchantId)?.name ?? k.merchantId,
          },
        ]
      : []),
    { key: 'perms', label: 'Permissions', render: (k) => k.permissions.join(', ') },
    { key: 'ips', label: 'Allowed from', render: (k) => k.allowedIps?.join(', ') ?? 'anywhere' },
    { key: 'status', label: 'Status', render: (k) => <Badge value={k.status} /> },
    { key: 'expires', label: 'Expires', render: (k) => (k.expiresAt ? when(k.expiresAt) : 'never') },
    {
      key: 'used',
      label: 'Last used',
      render: (k) => (k.lastUsedAt ? `${ago(k.lastUsedAt)} from ${k.lastUsedIp ?? '?'}` : 'never'),
    },
    ...(canWrite
      ? [
          {
            key: 'act',
            label: 'Actions',
            render: (k: ApiKey) =>
              k.status === 'active' ? (
                <span class="actions">
                  <ActionButton
                    label="Rotate"
                    ariaLabel={`Rotate ${k.name}`}
                    confirm={`Rotate ${k.name}? The current key stops working at once.`}
                    run={async () => {
                      const r = must(
                        await api.POST('/api/v1/api-keys/{id}/rotate', { params: { path: { id: k.id } } }),
                      );
                      setSecret({ title: `New key for ${k.name}`, key: r.apiKey });
                    }}
                    onDone={list.reload}
                  />
                  <ActionButton
                    label="Revoke"
                    kind="danger"
                    ariaLabel={`Revoke ${k.name}`}
                    confirm={`Revoke ${k.name}? Integrations using it are refused from now on.`}
                    run={async () =>
                      must(await api.POST('/api/v1/api-keys/{id}/revoke', { params: { path: { id: k.id } } }))
                    }
                    onDone={list.reload}
                  />
                </span>
              ) : (
                '—'
              ),
          },
        ]
      : []),
  ];
  return (
    <Page
      title="API keys"
      actions={
        canWrite ? (
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            Create API key
          </button>
        ) : null
      }
    >
      <p class="muted">
        Integrations call the API with <code>X-Api-Key</code>. A key acts as its creator narrowed to its
        permissions and merchant; it can never manage users or keys.
      </p>
      {secret ? (
        <SecretDialog
          title={secret.title}
          note="Copy it into the integration now: it is shown this once and the hub keeps only a hash."
          secret={secret.key}
          onClose={() => setSecret(null)}
        />
      ) : null}
      {creating ? (
        <CreateKey
          merchants={merchants.data ?? []}
          onCreated={(name, key) => {
            setCreating(false);
            setSecret({ title: `API key ${name}`, key });
            list.reload();
          }}
          onCancel={() => setCreating(false)}
        />
      ) : null}
      <ErrorNote error={list.error} />
      <Table caption="API keys" columns={columns} rows={list.data?.items ?? []} rowKey={(k) => k.id} />
      {list.data ? (
        <Pager
          total={list.data.total}
          limit={PAGE_SIZE}
          offset={offset}
          onPage={(o) => navigate('/api-keys', { offset: o || undefined })}
        />
      ) : null}
    </Page>
  );
}

function CreateKey(props: {
  merchants: { id: string; name: string }[];
  onCreated: (name: string, key: string) => void;
  onCancel: () => void;
}) {
  const [error, setError] = useState<string | null>(null);
  // Only what the creator's own role holds: the hub refuses anything more.
  const offered = (Object.keys(KEY_PERMISSIONS) as KeyPermission[]).filter((p) => session.can(p));
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const text = (k: string) => String(form.get(k) ?? '').trim();
    const permissions = form.getAll('permission').map(String) as KeyPermission[];
    const ips = text('allowedIps')
      .split(/[\s,]+/)
      .filter(Boolean);
    const day = text('expires');
    try {
      if (permissions.length === 0) throw new Error('Choose at least one permission.');
      const name = text('name');
      const r = must(
        await api.POST('/api/v1/api-keys', {
          body: {
            name,
            permissions,
            ...(text('merchantId') ? { merchantId: text('merchantId') } : {}),
            ...(ips.length ? { allowedIps: ips } : {}),
            // The end of the chosen day, in the browser's time zone.
            ...(day ? { expiresAt: new Date(`${day}T23:59:59`).getTime() } : {}),
          },
        }),
      );
      props.onCreated(name, r.apiKey);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form class="card" onSubmit={submit} aria-labelledby="key-title">
      <h2 id="key-title">Create an API key</h2>
      <div class="filters">
        <Field label="Name">
          <input name="name" required maxLength={100} />
        </Field>
        <MerchantField merchants={props.merchants} />
        <Field label="Allowed addresses (IPs or CIDRs, optional)">
          <input name="allowedIps" placeholder="203.0.113.0/24, 2001:db8::/32" />
        </Field>
        <Field label="Expires (optional)">
          <input name="expires" type="date" min={new Date().toISOString().slice(0, 10)} />
        </Field>
      </div>
      <fieldset>
        <legend>Permissions</legend>
        {offered.map((p) => (
          <label class="check" key={p}>
            <input type="checkbox" name="permission" value={p} /> <code>{p}</code> {KEY_PERMISSIONS[p]}
          </label>
        ))}
      </fieldset>
      <ErrorNote error={error} />
      <button type="submit" class="primary">
        Create
      </button>{' '}
      <button type="button" onClick={props.onCancel}>
        Cancel
      </button>
    </form>
  );
}
