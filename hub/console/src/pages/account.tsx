import { useState } from 'preact/hooks';
import { session } from '../api/session';
import { ErrorNote, Page } from '../ui/widgets';

export function Account() {
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const me = session.me;
  const submit = async (e: Event) => {
    e.preventDefault();
    const formEl = e.currentTarget as HTMLFormElement;
    const form = new FormData(formEl);
    setDone(false);
    const err = await session.changePassword(String(form.get('current')), String(form.get('next')));
    setError(err);
    if (!err) {
      formEl.reset();
      setDone(true);
    }
  };
  return (
    <Page title="Account">
      <dl class="facts">
        <dt>Email</dt>
        <dd>{me?.email}</dd>
        <dt>Role</dt>
        <dd>{me?.role}</dd>
        <dt>Merchant</dt>
        <dd>{me?.merchantId ?? 'all'}</dd>
      </dl>
      <form class="card" onSubmit={submit}>
        <h2>Change password</h2>
        <label class="field">
          <span>Current password</span>
          <input name="current" type="password" autocomplete="current-password" required />
        </label>
        <label class="field">
          <span>New password (12 characters or more)</span>
          <input name="next" type="password" autocomplete="new-password" minLength={12} required />
        </label>
        <ErrorNote error={error} />
        {done ? <p role="status">Password changed; other sessions have ended.</p> : null}
        <button type="submit" class="primary">
          Change password
        </button>
      </form>
    </Page>
  );
}
