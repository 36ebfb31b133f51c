import { api, must } from '../api/client';
import { session } from '../api/session';
import { navigate, useQuery } from '../ui/hooks';
import { Field } from '../ui/widgets';

/** The audit filters kept in the URL (dates as YYYY-MM-DD, local days), in the order the form shows them. */
export const AUDIT_FILTERS = [
  'actorUserId',
  'actionPrefix',
  'targetType',
  'targetId',
  'ip',
  'from',
  'to',
] as const;
export type AuditFilterForm = Record<(typeof AUDIT_FILTERS)[number], string>;

export function auditFilterOf(params: URLSearchParams): AuditFilterForm {
  return Object.fromEntries(AUDIT_FILTERS.map((k) => [k, params.get(k) ?? ''])) as AuditFilterForm;
}

/** Local midnight of a day, or of the next one for an inclusive "to". */
const day = (s: string, end = false) => new Date(`${s}T00:00:00`).getTime() + (end ? 86_400_000 : 0);

/** The filter as the API takes it (`from` inclusive, `to` exclusive, ms), for the list and the CSV export alike. */
export function auditQuery(f: AuditFilterForm): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of AUDIT_FILTERS) {
    const v = f[k].trim();
    if (!v) continue;
    out[k] = k === 'from' ? String(day(v)) : k === 'to' ? String(day(v, true)) : v;
  }
  return out;
}

/** Who can be picked as the actor: the users the caller may read (their emails, by id). */
export function useActors(wanted: boolean) {
  return useQuery(async () => {
    if (!wanted || !session.can('user:read')) return new Map<string, string>();
    const users = must(await api.GET('/api/v1/users', { params: { query: { limit: 200 } } })).items;
    return new Map(users.map((u) => [u.id, u.email]));
  }, [wanted]);
}

export function AuditFilters(props: { filter: AuditFilterForm; actors: Map<string, string> }) {
  const f = props.filter;
  const actors = [...props.actors].sort((a, b) => a[1].localeCompare(b[1]));
  if (f.actorUserId && !props.actors.has(f.actorUserId)) actors.unshift([f.actorUserId, f.actorUserId]);
  return (
    <form
      class="filters"
      aria-label="Filters"
      onSubmit={(e) => {
        e.preventDefault();
        const form = new FormData(e.currentTarget);
        navigate('/audit', Object.fromEntries(AUDIT_FILTERS.map((k) => [k, String(form.get(k) ?? '')])));
      }}
    >
      <Field label="Actor">
        <select name="actorUserId" key={`actor-${f.actorUserId}-${actors.length}`}>
          {/* `selected` on the option: Preact has no defaultValue for a select. */}
          <option value="">Anyone</option>
          {actors.map(([id, email]) => (
            <option key={id} value={id} selected={id === f.actorUserId}>
              {email}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Action starts with">
        <input name="actionPrefix" defaultValue={f.actionPrefix} placeholder="device." key={f.actionPrefix} />
      </Field>
      <Field label="Target type">
        <input name="targetType" defaultValue={f.targetType} placeholder="user" key={f.targetType} />
      </Field>
      <Field label="Target id">
        <input name="targetId" defaultValue={f.targetId} key={f.targetId} />
      </Field>
      <Field label="Address">
        <input name="ip" defaultValue={f.ip} placeholder="client IP" key={f.ip} />
      </Field>
      <Field label="From (day)">
        <input name="from" type="date" defaultValue={f.from} key={f.from} />
      </Field>
      <Field label="To (day, inclusive)">
        <input name="to" type="date" defaultValue={f.to} key={f.to} />
      </Field>
      <span class="row-actions">
        <button type="submit">Filter</button>
        <button type="button" onClick={() => navigate('/audit')}>
          Clear
        </button>
      </span>
    </form>
  );
}
