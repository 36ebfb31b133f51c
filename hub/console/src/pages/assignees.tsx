import { api, must } from '../api/client';
import { session } from '../api/session';
import { useQuery } from '../ui/hooks';

/**
 * Who may be assigned a work order: the merchant's users whose role handles them (the hub's list, never free
 * text). Without `merchantId` the hub answers for the caller's own merchant.
 */
export function useAssignees(merchantId: string | undefined, ready = true) {
  const canWrite = session.can('device:write');
  return useQuery(
    async () =>
      canWrite && ready
        ? must(
            await api.GET('/api/v1/work-orders/assignees', {
              params: { query: merchantId ? { merchantId } : {} },
            }),
          ).items
        : [],
    [canWrite, merchantId, ready],
  );
}

/** A labelled picker of assignees; the value is the user id. */
export function AssigneeSelect(props: {
  people: { id: string; email: string; name: string | null; merchantId: string }[];
  /** Names the merchant of each person, for the superadmin's board that spans merchants. */
  merchants?: { id: string; name: string }[];
  value?: string | null;
  name?: string;
  required?: boolean;
  onChange?: (id: string) => void;
}) {
  return (
    <label class="field">
      <span>Assign to</span>
      <select
        name={props.name}
        required={props.required}
        // Controlled only when the caller follows changes; otherwise the form reads it on submit.
        {...(props.onChange ? { value: props.value ?? '' } : {})}
        onChange={(e) => props.onChange?.(e.currentTarget.value)}
      >
        <option value="">— choose —</option>
        {props.people.map((u) => (
          <option key={u.id} value={u.id} selected={!props.onChange && u.id === props.value}>
            {u.name ? `${u.name} (${u.email})` : u.email}
            {props.merchants?.length
              ? ` · ${props.merchants.find((m) => m.id === u.merchantId)?.name ?? u.merchantId}`
              : ''}
          </option>
        ))}
      </select>
    </label>
  );
}
