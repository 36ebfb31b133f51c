import { useState } from 'preact/hooks';
import { api, must } from '../api/client';
import { useQuery } from '../ui/hooks';
import { ActionButton } from '../ui/widgets';

/** The five kinds every machine has by default, then whatever else the merchant's catalog stocks. */
const DEFAULT_MATERIALS = ['water', 'beans', 'milk', 'cups', 'waste'];

/** Material codes a bin may be bound to: the defaults and every material of the catalog. */
export function useMaterialCodes(): string[] {
  const catalog = useQuery(
    async () => must(await api.GET('/api/v1/materials/catalog', { params: { query: { limit: 200 } } })),
    [],
  );
  const codes = new Set(DEFAULT_MATERIALS);
  for (const item of catalog.data?.items ?? []) codes.add(item.material);
  return [...codes];
}

/** Rebinds one bin: a choice of material and a confirmed action (the level and thresholds start over). */
export function BindBin(props: {
  bin: { deviceId: string; bin: number; material: string };
  materials: string[];
  onDone: () => void;
}) {
  const { deviceId, bin, material } = props.bin;
  const [choice, setChoice] = useState(material);
  return (
    <span class="bind">
      <select
        aria-label={`Material for ${deviceId} bin ${bin}`}
        value={choice}
        onChange={(e) => setChoice(e.currentTarget.value)}
      >
        {props.materials.map((m) => (
          <option key={m} value={m}>
            {m}
          </option>
        ))}
      </select>
      <ActionButton
        label="Bind"
        ariaLabel={`Bind ${deviceId} bin ${bin}`}
        confirm={`Bind bin ${bin} of ${deviceId} to ${choice}? Its level and thresholds start over.`}
        run={async () =>
          must(
            await api.POST('/api/v1/materials/bins/{deviceId}/{bin}/bind', {
              params: { path: { deviceId, bin } },
              body: { material: choice },
            }),
          )
        }
        onDone={props.onDone}
      />
    </span>
  );
}

/** Installs the hub's binding on the machine (one set_config command, which replaces the machine's). */
export function PushBinding(props: { deviceId: string }) {
  return (
    <ActionButton
      label={`Send the bins to ${props.deviceId}`}
      confirm={`Replace the bin binding on ${props.deviceId} with the one shown here?`}
      run={async () =>
        must(
          await api.POST('/api/v1/materials/bins/{deviceId}/push', {
            params: { path: { deviceId: props.deviceId } },
            body: {},
          }),
        )
      }
    />
  );
}
