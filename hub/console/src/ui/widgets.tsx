import type { ComponentChildren, JSX } from 'preact';
import { useState } from 'preact/hooks';
import { ConfirmDialog } from './dialog';

export function Page(props: { title: string; actions?: ComponentChildren; children: ComponentChildren }) {
  return (
    <section class="page" aria-labelledby="page-title">
      <header class="page-head">
        <h1 id="page-title">{props.title}</h1>
        {props.actions ? <div class="actions">{props.actions}</div> : null}
      </header>
      {props.children}
    </section>
  );
}

export function ErrorNote(props: { error: string | null | undefined }) {
  return props.error ? (
    <p class="error" role="alert">
      {props.error}
    </p>
  ) : null;
}

export function Stat(props: {
  label: string;
  value: ComponentChildren;
  tone?: 'ok' | 'warn' | 'bad';
  href?: string;
}) {
  const body = (
    <>
      <span class="stat-value">{props.value}</span>
      <span class="stat-label">{props.label}</span>
    </>
  );
  return (
    <div class={`stat ${props.tone ?? ''}`} data-stat={props.label}>
      {props.href ? <a href={props.href}>{body}</a> : body}
    </div>
  );
}

export function Badge(props: { value: string }) {
  return <span class={`badge b-${props.value}`}>{props.value.replace(/_/g, ' ')}</span>;
}

export interface Column<T> {
  key: string;
  label: string;
  render: (row: T) => ComponentChildren;
  sortable?: boolean;
}

/** A table whose header sorts server-side (the caller owns sort state and the query). */
export function Table<T>(props: {
  caption: string;
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T) => string;
  sort?: { key: string; order: 'asc' | 'desc' };
  onSort?: (key: string) => void;
  empty?: string;
}) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: focusable so a keyboard can scroll a table wider than a phone
    <section class="table-wrap" tabIndex={0} aria-label={props.caption}>
      <table>
        <caption class="sr-only">{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map((c) => {
              const sorted = props.sort?.key === c.key;
              const aria = sorted ? (props.sort?.order === 'asc' ? 'ascending' : 'descending') : undefined;
              return (
                <th key={c.key} scope="col" aria-sort={aria}>
                  {c.sortable && props.onSort ? (
                    <button type="button" class="link" onClick={() => props.onSort?.(c.key)}>
                      {c.label}
                      {sorted ? (props.sort?.order === 'asc' ? ' ▲' : ' ▼') : ''}
                    </button>
                  ) : (
                    c.label
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {props.rows.length === 0 ? (
            <tr>
              <td colSpan={props.columns.length}>{props.empty ?? 'Nothing here.'}</td>
            </tr>
          ) : (
            props.rows.map((r) => (
              <tr key={props.rowKey(r)}>
                {props.columns.map((c) => (
                  <td key={c.key} data-label={c.label}>
                    {c.render(r)}
                  </td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </section>
  );
}

export function Pager(props: {
  total: number;
  limit: number;
  offset: number;
  onPage: (offset: number) => void;
}) {
  const { total, limit, offset } = props;
  const last = Math.min(total, offset + limit);
  return (
    <nav class="pager" aria-label="Pages">
      <span>
        {total === 0 ? 0 : offset + 1}–{last} of {total}
      </span>
      <button type="button" disabled={offset === 0} onClick={() => props.onPage(Math.max(0, offset - limit))}>
        Previous
      </button>
      <button type="button" disabled={last >= total} onClick={() => props.onPage(offset + limit)}>
        Next
      </button>
    </nav>
  );
}

/** A button that runs an async action, shows it is busy and reports its error beside it. */
export function ActionButton(props: {
  label: string;
  run: () => Promise<unknown>;
  confirm?: string;
  /** The button's accessible name when the label alone is ambiguous (a row's "Delete"). */
  ariaLabel?: string;
  kind?: 'primary' | 'danger';
  onDone?: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      await props.run();
      props.onDone?.();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="action">
      <button
        type="button"
        class={props.kind ?? ''}
        // aria-disabled, not disabled: the button keeps focus (a dialog closing returns focus to it).
        aria-disabled={busy}
        aria-label={props.ariaLabel}
        onClick={() => (busy ? undefined : props.confirm ? setAsking(true) : run())}
      >
        {props.label}
      </button>
      {asking && props.confirm ? (
        <ConfirmDialog
          question={props.confirm}
          action={props.label}
          danger={props.kind === 'danger'}
          onAnswer={(yes) => {
            setAsking(false);
            if (yes) void run();
          }}
        />
      ) : null}
      {error ? (
        <span class="error" role="alert">
          {error}
        </span>
      ) : null}
    </span>
  );
}

export function Field(props: { label: string; children: JSX.Element }) {
  return (
    // biome-ignore lint/a11y/noLabelWithoutControl: the control is the child element
    <label class="field">
      <span>{props.label}</span>
      {props.children}
    </label>
  );
}
