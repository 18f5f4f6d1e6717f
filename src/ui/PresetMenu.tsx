// Picks a preset scenario; the select snaps back to its prompt so the same preset can be reloaded.
import { useId, type JSX } from 'react';
import type { Preset } from '../sim/presets.ts';
import './PresetMenu.css';

export interface PresetMenuProps {
  presets: readonly Preset[];
  onLoad: (preset: Preset) => void;
}

export function PresetMenu({ presets, onLoad }: PresetMenuProps): JSX.Element {
  const id = useId();
  return (
    <div className="preset-menu">
      <label htmlFor={id}>Preset</label>
      <select
        id={id}
        value=""
        disabled={presets.length === 0}
        onChange={(e) => {
          const preset = presets.find((p) => p.file === e.target.value);
          if (preset !== undefined) onLoad(preset);
        }}
      >
        <option value="" disabled>
          Load a preset…
        </option>
        {presets.map((p) => (
          <option key={p.file} value={p.file} title={p.summary}>
            {p.title}
          </option>
        ))}
      </select>
    </div>
  );
}
