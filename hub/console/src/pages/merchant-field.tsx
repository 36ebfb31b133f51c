import { api, must } from '../api/client';
import { session } from '../api/session';
import { useQuery } from '../ui/hooks';
import { Field } from '../ui/widgets';

/** The merchants a superadmin picks from (others act for their own merchant and get an empty list). */
export function useMerchants() {
  const superadmin = session.me?.role === 'superadmin';
  return useQuery(
    async () =>
      superadmin && session.can('merchant:read')
        ? must(await api.GET('/api/v1/merchants', { params: { query: { limit: 200 } } })).items
        : [],
    [superadmin],
  );
}

/** A required merchant picker for the superadmin; nothing for anyone else (the hub uses their own). */
export function MerchantField(props: {
  merchants: { id: string; name: string }[];
  value?: string;
  onChange?: (id: string) => void;
}) {
  if (session.me?.role !== 'superadmin') return null;
  return (
    <Field label="Merchant">
      <select
        name="merchantId"
        required
        {...(props.onChange ? { value: props.value ?? '' } : {})}
        onChange={(e) => props.onChange?.(e.currentTarget.value)}
      >
        <option value="">Choose…</option>
        {props.merchants.map((m) => (
          <option key={m.id} value={m.id}>
            {m.name}
          </option>
        ))}
      </select>
    </Field>
  );
}
