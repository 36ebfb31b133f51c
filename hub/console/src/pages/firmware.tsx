import { useState } from 'preact/hooks';
import { api, must } from '../api/client';
import { session } from '../api/session';
import { when } from '../ui/format';
import { useLive, useQuery } from '../ui/hooks';
import { ActionButton, Badge, ErrorNote, Page, Pager, Table } from '../ui/widgets';

const PAGE_SIZE = 20;
const counted = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([status, n]) => `${n} ${status.replace(/_/g, ' ')}`)
    .join(', ') || '—';

/**
 * Updates: the uploaded artifacts (brewer firmware, agent releases) and the rollout campaigns, live from the
 * `rollout.*` events; a campaign's phases, machines, halt reason, and pause / resume / cancel by permission.
 */
export function Firmware() {
  const [offset, setOffset] = useState(0);
  const [open, setOpen] = useState<string | null>(null);
  const rollouts = useQuery(
    async () => must(await api.GET('/api/v1/rollouts', { params: { query: { limit: PAGE_SIZE, offset } } })),
    [offset],
  );
  const artifacts = useQuery(
    async () => must(await api.GET('/api/v1/artifacts', { params: { query: { limit: 50, offset: 0 } } })),
    [],
  );
  useLive((e) => e.type.startsWith('rollout.'), rollouts.reload);
  return (
    <Page title="Firmware and agent updates">
      <ErrorNote error={rollouts.error ?? artifacts.error} />
      <Table
        caption="Campaigns"
        columns={[
          {
            key: 'name',
            label: 'Campaign',
            render: (r) => (
              <button type="button" class="link" onClick={() => setOpen(r.id)}>
                {r.name}
              </button>
            ),
          },
          { key: 'artifact', label: 'Artifact', render: (r) => `${r.artifact.kind} ${r.artifact.version}` },
          { key: 'status', label: 'Status', render: (r) => <Badge value={r.status} /> },
          { key: 'phase', label: 'Phase', render: (r) => `${r.phaseIndex + 1} of ${r.phases.length}` },
          { key: 'machines', label: 'Machines', render: (r) => counted(r.counts) },
          { key: 'at', label: 'Started', render: (r) => when(r.createdAt) },
        ]}
        rows={rollouts.data?.items ?? []}
        rowKey={(r) => r.id}
        empty={rollouts.loading ? 'Loading…' : 'No campaigns yet.'}
      />
      {rollouts.data ? (
        <Pager total={rollouts.data.total} limit={PAGE_SIZE} offset={offset} onPage={setOffset} />
      ) : null}
      {open ? <Campaign id={open} onChange={rollouts.reload} /> : null}
      <Table
        caption="Artifacts"
        columns={[
          { key: 'kind', label: 'Kind', render: (a) => a.kind },
          { key: 'version', label: 'Version', render: (a) => a.version },
          { key: 'models', label: 'Models', render: (a) => a.models.join(', ') },
          { key: 'size', label: 'Size', render: (a) => `${Math.round(a.size / 1024)} KiB` },
          { key: 'sha', label: 'sha256', render: (a) => <code>{a.sha256.slice(0, 12)}…</code> },
          { key: 'at', label: 'Uploaded', render: (a) => when(a.createdAt) },
        ]}
        rows={artifacts.data?.items ?? []}
        rowKey={(a) => a.sha256}
        empty={artifacts.loading ? 'Loading…' : 'No artifacts uploaded.'}
      />
      {session.can('artifact:write') ? <UploadArtifact onDone={artifacts.reload} /> : null}
      {session.can('device:command') && artifacts.data?.items.length ? (
        <StartCampaign artifacts={artifacts.data.items} onStarted={rollouts.reload} />
      ) : null}
    </Page>
  );
}

function Campaign(props: { id: string; onChange: () => void }) {
  const q = useQuery(async () => {
    const path = { id: props.id };
    const [rollout, devices] = await Promise.all([
      api.GET('/api/v1/rollouts/{id}', { params: { path } }),
      api.GET('/api/v1/rollouts/{id}/devices', { params: { path, query: { limit: 200, offset: 0 } } }),
    ]);
    return { rollout: must(rollout), devices: must(devices) };
  }, [props.id]);
  useLive((e) => e.type.startsWith('rollout.'), q.reload);
  const r = q.data?.rollout;
  const act = (verb: 'pause' | 'resume' | 'cancel') => async () =>
    must(await api.POST(`/api/v1/rollouts/{id}/${verb}`, { params: { path: { id: props.id } } }));
  const done = () => {
    q.reload();
    props.onChange();
  };
  return (
    <section class="card" aria-labelledby="campaign-title">
      <h2 id="campaign-title">{r ? `${r.name}: ${r.status.replace(/_/g, ' ')}` : 'Campaign'}</h2>
      <ErrorNote error={q.error} />
      {r?.halt ? (
        <p role="alert">
          Halted ({r.halt.code}): {r.halt.reason}
        </p>
      ) : null}
      {r && session.can('device:command') ? (
        <div class="filters">
          {r.status === 'running' ? <ActionButton label="Pause" run={act('pause')} onDone={done} /> : null}
          {r.status === 'paused' || r.status === 'halted' ? (
            <ActionButton label="Resume" run={act('resume')} onDone={done} />
          ) : null}
          {['running', 'paused', 'halted'].includes(r.status) ? (
            <ActionButton
              label="Cancel campaign"
              kind="danger"
              confirm="Cancel this campaign? Machines not sent the update yet are left out; installs under way finish."
              run={act('cancel')}
              onDone={done}
            />
          ) : null}
        </div>
      ) : null}
      <Table
        caption="Phases"
        columns={[
          { key: 'index', label: 'Phase', render: (p) => p.index + 1 },
          { key: 'devices', label: 'Machines', render: (p) => p.devices },
          { key: 'state', label: 'State', render: (p) => <Badge value={p.state} /> },
          { key: 'counts', label: 'Progress', render: (p) => counted(p.counts) },
          { key: 'soak', label: 'Soak', render: (p) => `${Math.round(p.soakMs / 1000)} s` },
        ]}
        rows={r?.phaseSummaries ?? []}
        rowKey={(p) => String(p.index)}
        empty="—"
      />
      <Table
        caption="Machines"
        columns={[
          {
            key: 'device',
            label: 'Machine',
            render: (d) => <a href={`#/machines/${d.deviceId}`}>{d.deviceId}</a>,
          },
          { key: 'phase', label: 'Phase', render: (d) => (d.phase === null ? '—' : d.phase + 1) },
          { key: 'status', label: 'Status', render: (d) => <Badge value={d.status} /> },
          {
            key: 'stage',
            label: 'Stage',
            render: (d) => (d.stage ? `${d.stage}${d.pct === null ? '' : ` ${Math.round(d.pct)} %`}` : '—'),
          },
          {
            key: 'reason',
            label: 'Reason',
            render: (d) => [d.reason, d.detail].filter(Boolean).join(': ') || '—',
          },
        ]}
        rows={q.data?.devices.items ?? []}
        rowKey={(d) => d.deviceId}
        empty="No machines."
      />
    </section>
  );
}

function StartCampaign(props: {
  artifacts: { sha256: string; kind: string; version: string }[];
  onStarted: () => void;
}) {
  const [sha, setSha] = useState(props.artifacts[0]?.sha256 ?? '');
  const [name, setName] = useState('');
  const [canary, setCanary] = useState('1');
  const [soakS, setSoakS] = useState('60');
  const [machines, setMachines] = useState('');
  const deviceIds = machines
    .split(/[\s,]+/)
    .map((m) => m.trim())
    .filter(Boolean);
  return (
    <section class="card" aria-labelledby="start-title">
      <h2 id="start-title">Start a campaign</h2>
      <div class="filters">
        <label class="field">
          <span>Artifact</span>
          <select value={sha} onChange={(e) => setSha(e.currentTarget.value)}>
            {props.artifacts.map((a) => (
              <option key={a.sha256} value={a.sha256}>
                {a.kind} {a.version}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Name</span>
          <input value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Machines (ids; empty: every one it fits)</span>
          <input value={machines} onInput={(e) => setMachines(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Canary machines</span>
          <input inputMode="numeric" value={canary} onInput={(e) => setCanary(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Canary soak (s)</span>
          <input inputMode="numeric" value={soakS} onInput={(e) => setSoakS(e.currentTarget.value)} />
        </label>
        <ActionButton
          label="Start"
          run={async () =>
            must(
              await api.POST('/api/v1/rollouts', {
                body: {
                  name: name.trim() || 'Update',
                  artifact: sha,
                  target: deviceIds.length ? { deviceIds } : {},
                  phases: [
                    { count: Number(canary) || 1, soakMs: (Number(soakS) || 0) * 1000 },
                    { percent: 100, soakMs: 0 },
                  ],
                },
              }),
            )
          }
          onDone={props.onStarted}
        />
      </div>
    </section>
  );
}

/** Uploads a brewer firmware image or an agent release; the hub hashes it while it streams in and signs it. */
function UploadArtifact(props: { onDone: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const formEl = e.currentTarget as HTMLFormElement;
    const form = new FormData(formEl);
    const file = form.get('file');
    const text = (k: string) => String(form.get(k) ?? '').trim();
    if (!(file instanceof File) || file.size === 0) return setError('Choose a file to upload.');
    setBusy(true);
    setError(null);
    try {
      must(
        await api.POST('/api/v1/artifacts', {
          params: {
            query: {
              kind: text('kind') as 'brewer-firmware' | 'agent',
              version: text('version'),
              models: text('models'),
              minVersion: text('minVersion'),
              notes: text('notes'),
            },
          },
          // The bytes as they are (the API takes application/octet-stream, typed as a string).
          body: file as unknown as string,
          bodySerializer: (body: unknown) => body as BodyInit,
          headers: { 'content-type': 'application/octet-stream' },
        }),
      );
      formEl.reset();
      props.onDone();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card" onSubmit={submit} aria-labelledby="upload-title">
      <h2 id="upload-title">Upload an artifact</h2>
      <div class="filters">
        <label class="field">
          <span>File</span>
          <input name="file" type="file" required />
        </label>
        <label class="field">
          <span>Kind</span>
          <select name="kind">
            <option value="brewer-firmware">brewer firmware</option>
            <option value="agent">agent</option>
          </select>
        </label>
        <label class="field">
          <span>Version</span>
          <input name="version" required placeholder="1.5.0" />
        </label>
        <label class="field">
          <span>Models (comma-separated)</span>
          <input name="models" required placeholder="cm-1" />
        </label>
        <label class="field">
          <span>Minimum installed version</span>
          <input name="minVersion" required defaultValue="0.0.0" />
        </label>
        <label class="field">
          <span>Notes</span>
          <input name="notes" />
        </label>
      </div>
      <ErrorNote error={error} />
      <button type="submit" class="primary" disabled={busy}>
        {busy ? 'Uploading…' : 'Upload'}
      </button>
    </form>
  );
}
