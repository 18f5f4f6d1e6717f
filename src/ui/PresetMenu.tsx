// Picks a preset scenario and shows which one the script is; any edit makes it "your script".
import { useId, type JSX } from 'react';
import type { Preset } from '../sim/presets.ts';
import './PresetMenu.css';

export interface PresetMenuProps {
  presets: readonly Preset[];
  /** The preset the script is (unedited), shown as the menu's value. */
  current: Preset | null;
  onLoad: (preset: Preset) => void;
}

export function PresetMenu({ presets, current, onLoad }: PresetMenuProps): JSX.Element {
  const id = useId();
  return (
    <div className="preset-menu">
      <label htmlFor={id}>Preset</label>
      <select
        id={id}
        value={current?.file ?? ''}
        disabled={presets.length === 0}
        onChange={(e) => {
          const preset = presets.find((p) => p.file === e.target.value);
          if (preset !== undefined) onLoad(preset);
        }}
      >
        <option value="" disabled>
          {current ? 'Load a preset…' : 'Your script — load a preset…'}
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
