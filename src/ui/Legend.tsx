// What every colour and mark of the paging-structure picture means. Entry colours come from the
// palette the canvas draws with, so the two cannot drift apart.
import { ENTRY_KINDS, NX_GLYPH } from '../viz/palette.ts';
import type { EntryKind } from '../viz/palette.ts';
import './Legend.css';

export interface LegendProps {
  /** Open on first render (the user can fold it away). */
  defaultOpen?: boolean;
  /** An imported trace is shown: its unknown entries have a colour of their own. */
  trace?: boolean;
}

const ENTRY_DETAIL: Record<EntryKind, string> = {
  none: 'non-present SPTE (0; from 6.10 SHADOW_NONPRESENT_VALUE, bit 63): nothing mapped, an access faults',
  table: 'non-leaf SPTE: its PFN is a child page table one level down',
  '4k': 'leaf SPTE in a role.level 1 table',
  '2m': 'huge leaf SPTE in a role.level 2 table',
  '1g': 'huge leaf SPTE in a role.level 3 table',
  mmio: 'not present: W+X without R makes the access an EPT misconfiguration, emulated as MMIO',
  removed:
    'REMOVED_SPTE (5.x, 0x5a0) / FROZEN_SPTE (6.11+, 0x80000000000005a0): frozen while its table is torn down; other walkers retry',
  unknown:
    'an imported trace began after this table was made and has not shown this entry yet: its value is not known',
};

interface Mark {
  mark: string;
  label: string;
  detail: string;
}

const MARKS: readonly Mark[] = [
  {
    mark: 'nx',
    label: NX_GLYPH.label,
    detail: 'X bit withheld by the NX huge page mitigation; an exec fault maps 4K pages instead',
  },
  {
    mark: 'nx-badge',
    label: 'NX-accounted table',
    detail:
      'on the NX recovery list (5.x lpage_disallowed, 6.x possible_nx_huge_pages), counted in nx_lpage_splits',
  },
  {
    mark: 'invalid-root',
    label: 'invalid root',
    detail: 'role.invalid = 1: obsolete, waiting to be zapped and put',
  },
  { mark: 'vcpu-root', label: 'vCPU root', detail: 'the root the vCPU is running on' },
  {
    mark: 'rcu',
    label: 'awaiting RCU free',
    detail: 'unlinked table, freed after the RCU grace period',
  },
  { mark: 'iter', label: 'iterator', detail: 'where tdp_iter is now' },
  {
    mark: 'actor',
    label: 'race actor',
    detail:
      'in a race, the entry each actor touched last, in its lane colour with its number; a shaking red ring is a cmpxchg that found the value changed',
  },
  { mark: 'selected', label: 'selected', detail: 'the entry shown in the inspector' },
  {
    mark: 'flush',
    label: 'TLB flush',
    detail:
      'a pulse over the GFNs a flush call names; outside Hyper-V a "ranged" call is a full remote flush, so the counters count call sites',
  },
];

export function Legend({ defaultOpen = true, trace = false }: LegendProps) {
  return (
    <details className="legend" aria-label="Legend" open={defaultOpen}>
      <summary className="legend__summary">Legend</summary>
      <ul className="legend__list" aria-label="Entry colours">
        {ENTRY_KINDS.filter((k) => trace || k.kind !== 'unknown').map((k) => (
          <li key={k.kind} className="legend__item" title={ENTRY_DETAIL[k.kind]}>
            <span
              className="legend__swatch"
              style={{ background: `var(${k.cssVar})` }}
              aria-hidden="true"
            />
            {k.label}
          </li>
        ))}
      </ul>
      <ul className="legend__list" aria-label="Marks">
        {MARKS.map((m) => (
          <li key={m.mark} className="legend__item" title={m.detail}>
            <span className={`legend__mark legend__mark--${m.mark}`} aria-hidden="true">
              {m.mark === 'nx-badge' ? 'NX' : null}
            </span>
            {m.label}
          </li>
        ))}
      </ul>
    </details>
  );
}
