import { useState } from 'preact/hooks';
import { api, must, mustSucceed } from '../api/client';
import type { components } from '../api/schema';
import { session } from '../api/session';
import { Dialog } from '../ui/dialog';
import { ActionButton, ErrorNote, Field } from '../ui/widgets';

type User = components['schemas']['User'];
type Role = User['role'];
const MERCHANT_ROLES: Role[] = ['merchant_admin', 'ops_engineer', 'finance', 'viewer'];

/** Edit and delete of one user row, for callers with user:write (the API checks again). */
export function UserActions(props: { user: User; onDone: () => void }) {
  const [editing, setEditing] = useState(false);
  const { user } = props;
  const self = user.id === session.me?.id;
  // A superadmin account is the platform's: only a superadmin touches it.
  if (user.role === 'superadmin' && session.me?.role !== 'superadmin') return null;
  return (
    <span class="row-actions">
      <button type="button" onClick={() => setEditing(true)} aria-label={`Edit ${user.email}`}>
        Edit
      </button>
      {self ? null : (
        <ActionButton
          label="Delete"
          ariaLabel={`Delete ${user.email}`}
          kind="danger"
          confirm={`Delete ${user.email}? Their sessions end at once; their audit entries stay.`}
          run={async () =>
            mustSucceed(await api.DELETE('/api/v1/users/{id}', { params: { path: { id: user.id } } }))
          }
          onDone={props.onDone}
        />
      )}
      {editing ? (
        <EditUser
          user={user}
          self={self}
          onClose={(changed) => {
            setEditing(false);
            if (changed) props.onDone();
          }}
        />
      ) : null}
    </span>
  );
}

/** Name, role and (for someone else) a new password; a role or password change ends the user's sessions. */
function EditUser(props: { user: User; self: boolean; onClose: (changed: boolean) => void }) {
  const { user, self } = props;
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const name = String(form.get('name') ?? '').trim() || null;
    const role = String(form.get('role') ?? user.role) as Role;
    const password = String(form.get('password') ?? '');
    const body = {
      ...(name !== user.name ? { name } : {}),
      ...(role !== user.role ? { role } : {}),
      ...(password ? { password } : {}),
    };
    if (Object.keys(body).length === 0) return props.onClose(false);
    setBusy(true);
    try {
      must(await api.PATCH('/api/v1/users/{id}', { params: { path: { id: user.id } }, body }));
      props.onClose(true);
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };
  // Superadmin stays superadmin and merchant users stay merchant users (the API refuses the crossing).
  const roles: Role[] = user.role === 'superadmin' ? ['superadmin'] : MERCHANT_ROLES;
  return (
    <Dialog
      title={`Edit ${user.email}`}
      description="A new role or password ends this user's sessions: they sign in again."
      onClose={() => props.onClose(false)}
    >
      <form onSubmit={submit} class="dialog-form">
        <Field label="Name">
          <input name="name" defaultValue={user.name ?? ''} maxLength={200} />
        </Field>
        <Field label="Role">
          <select name="role" disabled={roles.length === 1}>
            {roles.map((r) => (
              <option key={r} value={r} selected={r === user.role}>
                {r.replace('_', ' ')}
              </option>
            ))}
          </select>
        </Field>
        {self ? (
          <p class="muted">
            Your own password changes on the <a href="#/account">Account</a> page (it asks for the current
            one).
          </p>
        ) : (
          <Field label="New password (leave empty to keep; 12+ characters)">
            <input name="password" type="password" autocomplete="new-password" minLength={12} />
          </Field>
        )}
        <ErrorNote error={error} />
        <div class="dialog-actions">
          <button type="button" onClick={() => props.onClose(false)}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy}>
            Save
          </button>
        </div>
      </form>
    </Dialog>
  );
}
