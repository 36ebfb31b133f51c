import { useState } from 'preact/hooks';
import { api, must } from '../api/client';
import { session } from '../api/session';
import { ErrorNote } from '../ui/widgets';

const ROLES = ['merchant_admin', 'ops_engineer', 'finance', 'viewer', 'superadmin'] as const;

/** The create form of an administration list, for roles allowed to write it (the API checks again). */
export function CreateForm(props: { kind: 'users' | 'merchants' | 'locations'; onDone: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const superadmin = session.me?.role === 'superadmin';
  const submit = async (e: Event) => {
    e.preventDefault();
    const formEl = e.currentTarget as HTMLFormElement;
    const form = new FormData(formEl);
    const text = (k: string) => String(form.get(k) ?? '').trim();
    const merchant = text('merchantId') ? { merchantId: text('merchantId') } : {};
    try {
      if (props.kind === 'users')
        must(
          await api.POST('/api/v1/users', {
            body: {
              email: text('email'),
              name: text('name') || null,
              role: text('role') as (typeof ROLES)[number],
              password: String(form.get('password') ?? ''),
              ...merchant,
            },
          }),
        );
      else if (props.kind === 'merchants')
        must(
          await api.POST('/api/v1/merchants', {
            body: { name: text('name'), ...(text('timeZone') ? { timeZone: text('timeZone') } : {}) },
          }),
        );
      else
        must(
          await api.POST('/api/v1/locations', {
            body: { name: text('name'), address: text('address') || null, ...merchant },
          }),
        );
      formEl.reset();
      setError(null);
      props.onDone();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const merchantField =
    superadmin && props.kind !== 'merchants' ? (
      <label class="field">
        <span>Merchant id</span>
        <input name="merchantId" />
      </label>
    ) : null;
  return (
    <form class="card" onSubmit={submit} aria-labelledby="create-title">
      <h2 id="create-title">
        Add {props.kind === 'users' ? 'a user' : props.kind === 'merchants' ? 'a merchant' : 'a location'}
      </h2>
      <div class="filters">
        {props.kind === 'users' ? (
          <>
            <label class="field">
              <span>Email</span>
              <input name="email" type="email" required />
            </label>
            <label class="field">
              <span>Name</span>
              <input name="name" />
            </label>
            <label class="field">
              <span>Role</span>
              <select name="role">
                {ROLES.filter((r) => superadmin || r !== 'superadmin').map((r) => (
                  <option key={r} value={r}>
                    {r.replace('_', ' ')}
                  </option>
                ))}
              </select>
            </label>
            <label class="field">
              <span>Password (12+ characters)</span>
              <input name="password" type="password" autocomplete="new-password" minLength={12} required />
            </label>
          </>
        ) : (
          <>
            <label class="field">
              <span>Name</span>
              <input name="name" required />
            </label>
            {props.kind === 'locations' ? (
              <label class="field">
                <span>Address</span>
                <input name="address" />
              </label>
            ) : (
              <label class="field">
                <span>Time zone (IANA)</span>
                <input name="timeZone" placeholder="Europe/Lisbon" />
              </label>
            )}
          </>
        )}
        {merchantField}
      </div>
      <ErrorNote error={error} />
      <button type="submit" class="primary">
        Add
      </button>
    </form>
  );
}
