import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';

/**
 * A modal `<dialog>`, open while rendered: the browser moves focus into it, keeps it there (the page behind is
 * inert) and closes it on Escape; focus returns to what had it before. `onClose` runs however it closes.
 */
export function Dialog(props: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  /** `alertdialog` for a question that needs an answer (a confirmation). */
  role?: 'alertdialog';
  /** Read out with the title when it opens. */
  description?: string;
  testId?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  const descId = useId();
  const onClose = useRef(props.onClose);
  onClose.current = props.onClose;
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement as HTMLElement | null;
    dialog.showModal();
    const closed = () => onClose.current();
    dialog.addEventListener('close', closed);
    return () => {
      dialog.removeEventListener('close', closed);
      if (dialog.open) dialog.close();
      opener?.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class="dialog"
      role={props.role}
      aria-labelledby={id}
      aria-describedby={props.description ? descId : undefined}
      data-testid={props.testId}
    >
      <h2 id={id}>{props.title}</h2>
      {props.description ? <p id={descId}>{props.description}</p> : null}
      {props.children}
    </dialog>
  );
}

/** Asks before an action; the question is the dialog's description, the confirm button names the action. */
export function ConfirmDialog(props: {
  question: string;
  action: string;
  danger?: boolean;
  onAnswer: (yes: boolean) => void;
}) {
  return (
    <Dialog
      title="Please confirm"
      role="alertdialog"
      description={props.question}
      onClose={() => props.onAnswer(false)}
    >
      <div class="dialog-actions">
        {/* Cancel first and focused: Enter on an unread question does nothing harmful. */}
        <button type="button" autofocus onClick={() => props.onAnswer(false)}>
          Cancel
        </button>
        <button
          type="button"
          class={props.danger ? 'danger' : 'primary'}
          onClick={() => props.onAnswer(true)}
        >
          {props.action}
        </button>
      </div>
    </Dialog>
  );
}

/**
 * A secret shown once (a device credential): in a modal, with a copy button. Closing it drops the secret: the
 * caller clears it from its state in `onClose`, so it leaves the page with the dialog.
 */
export function SecretDialog(props: { title: string; secret: string; note: string; onClose: () => void }) {
  const [copied, setCopied] = useState<string>('');
  const text = useRef<HTMLPreElement>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.secret);
      setCopied('Copied to the clipboard.');
    } catch {
      // No clipboard API (plain http off localhost): select it, so Ctrl+C copies it.
      const range = document.createRange();
      if (text.current) range.selectNodeContents(text.current);
      getSelection()?.removeAllRanges();
      getSelection()?.addRange(range);
      setCopied('Selected: press Ctrl+C (⌘C) to copy.');
    }
  };
  return (
    <Dialog title={props.title} onClose={props.onClose} testId="secret-dialog">
      <p>{props.note}</p>
      <pre class="secret" data-testid="credential" ref={text}>
        {props.secret}
      </pre>
      <p class="muted" role="status">
        {copied}
      </p>
      <div class="dialog-actions">
        <button type="button" class="primary" autofocus onClick={copy}>
          Copy
        </button>
        <button type="button" onClick={props.onClose}>
          Done
        </button>
      </div>
    </Dialog>
  );
}
