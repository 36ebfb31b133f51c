import { useState } from 'preact/hooks';
import { api, must, mustSucceed } from '../api/client';
import type { components } from '../api/schema';
import { Dialog } from '../ui/dialog';
import { ActionButton, ErrorNote, Field } from '../ui/widgets';

interface FieldSpec {
  name: string;
  label: string;
  value: string | null;
  /** Empty is refused in the form; otherwise empty means null. */
  required?: boolean;
  placeholder?: string;
}

/** Edit (a dialog of text fields) and delete (after confirming) of one row of an administration list. */
function RowActions(props: {
  what: string;
  fields: FieldSpec[];
  /** Gets only the fields that changed; empty optional ones as null. */
  save: (changed: Record<string, string | null>) => Promise<unknown>;
  remove: () => Promise<unknown>;
  removeQuestion: string;
  onDone: () => void;
}) {
  const [editing, setEditing] = useState(false);
  return (
    <span class="row-actions">
      <button type="button" onClick={() => setEditing(true)} aria-label={`Edit ${props.what}`}>
        Edit
      </button>
      <ActionButton
        label="Delete"
        ariaLabel={`Delete ${props.what}`}
        kind="danger"
        confirm={props.removeQuestion}
        run={props.remove}
        onDone={props.onDone}
      />
      {editing ? (
        <EditDialog
          title={`Edit ${props.what}`}
          fields={props.fields}
          save={props.save}
          onClose={(changed) => {
            setEditing(false);
            if (changed) props.onDone();
          }}
        />
      ) : null}
    </span>
  );
}

function EditDialog(props: {
  title: string;
  fields: FieldSpec[];
  save: (changed: Record<string, string | null>) => Promise<unknown>;
  onClose: (changed: boolean) => void;
}) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const changed: Record<string, string | null> = {};
    for (const f of props.fields) {
      const v = String(form.get(f.name) ?? '').trim() || null;
      if (v !== f.value) changed[f.name] = v;
    }
    if (Object.keys(changed).length === 0) return props.onClose(false);
    setBusy(true);
    try {
      await props.save(changed);
      props.onClose(true);
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };
  return (
    <Dialog title={props.title} onClose={() => props.onClose(false)}>
      <form onSubmit={submit}>
        {props.fields.map((f) => (
          <Field key={f.name} label={f.label}>
            <input
              name={f.name}
              defaultValue={f.value ?? ''}
              required={f.required}
              placeholder={f.placeholder}
            />
          </Field>
        ))}
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

type Merchant = components['schemas']['Merchant'];
type Location = components['schemas']['Location'];

export function MerchantActions(props: { merchant: Merchant; onDone: () => void }) {
  const { merchant: m } = props;
  const path = { params: { path: { id: m.id } } };
  return (
    <RowActions
      what={m.name}
      fields={[
        { name: 'name', label: 'Name', value: m.name, required: true },
        {
          name: 'timeZone',
          label: 'Time zone (IANA)',
          value: m.timeZone,
          required: true,
          placeholder: 'Europe/Lisbon',
        },
      ]}
      save={async (c) =>
        must(
          await api.PATCH('/api/v1/merchants/{id}', {
            ...path,
            body: {
              ...(c.name ? { name: c.name } : {}),
              ...(c.timeZone ? { timeZone: c.timeZone } : {}),
            },
          }),
        )
      }
      remove={async () => mustSucceed(await api.DELETE('/api/v1/merchants/{id}', path))}
      removeQuestion={`Delete the merchant ${m.name}? Only a merchant that owns nothing can go.`}
      onDone={props.onDone}
    />
  );
}

export function LocationActions(props: { location: Location; onDone: () => void }) {
  const { location: l } = props;
  const path = { params: { path: { id: l.id } } };
  return (
    <RowActions
      what={l.name}
      fields={[
        { name: 'name', label: 'Name', value: l.name, required: true },
        { name: 'address', label: 'Address', value: l.address },
      ]}
      save={async (c) =>
        must(
          await api.PATCH('/api/v1/locations/{id}', {
            ...path,
            body: {
              ...(c.name ? { name: c.name } : {}),
              ...('address' in c ? { address: c.address ?? null } : {}),
            },
          }),
        )
      }
      remove={async () => mustSucceed(await api.DELETE('/api/v1/locations/{id}', path))}
      removeQuestion={`Delete the location ${l.name}? Only a location no machine stands at can go.`}
      onDone={props.onDone}
    />
  );
}
