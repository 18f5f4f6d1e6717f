// The kernel's page stats and the model's cost counters, with what the last step changed.
import { COUNTER_NAMES, SHAPE_NAMES, STAT_NAMES, VCPU_STATS_6 } from '../sim/names.ts';
import { profileOf, type KernelId } from '../sim/profile.ts';
import type { Counters, Stats } from '../sim/names.ts';
import './StatsPanel.css';

/** Facts of the structure the kernel keeps no stat for (what `expect` calls them). */
export interface Shape {
  roots: number;
  invalid_roots: number;
  tables: number;
}

const SHAPE_HINTS: Record<(typeof SHAPE_NAMES)[number], string> = {
  roots: 'roots on tdp_mmu_roots',
  invalid_roots: 'of them with role.invalid set',
  tables: 'linked non-root tables',
};

export interface StatsPanelProps {
  stats: Stats;
  counters: Counters;
  shape: Shape;
  /** The 6.x vCPU stats are listed only for a kernel that has them. */
  kernel: KernelId;
  previous?: { stats: Stats; counters: Counters; shape: Shape };
}

const STAT_HINTS: Record<(typeof STAT_NAMES)[number], string> = {
  pages_4k: '4K leaf SPTEs (kvm->stat.pages_4k)',
  pages_2m: '2M leaf SPTEs (kvm->stat.pages_2m)',
  pages_1g: '1G leaf SPTEs (kvm->stat.pages_1g)',
  nx_lpage_splits: 'tables on the NX recovery list (kvm->stat.nx_lpage_splits)',
};

const COUNTER_HINTS: Record<(typeof COUNTER_NAMES)[number], string> = {
  spte_reads: 'SPTEs read by the walks',
  spte_writes: 'SPTE writes',
  spte_atomic: 'of the writes, atomic: cmpxchg or xchg (mmu_lock held for read)',
  spte_frozen: 'of the writes, REMOVED_SPTE / FROZEN_SPTE',
  iter_steps: 'tdp_iter steps',
  tlb_flushes: 'remote TLB flushes, all kinds',
  tlb_flushes_ranged:
    'calls that name a GFN range (kvm_flush_remote_tlbs_with_address / _range); outside Hyper-V each is a full flush',
  tlb_flushes_full: 'calls to kvm_flush_remote_tlbs()',
  sp_allocated: 'shadow pages allocated',
  sp_freed: 'shadow pages freed after RCU',
  faults: 'page faults handled',
  pf_fixed: 'vcpu->stat.pf_fixed: faults that installed a mapping (5.x also counts RET_PF_EMULATE)',
  pf_spurious: 'faults with nothing to do (RET_PF_SPURIOUS; a vCPU stat from 6.x)',
  pf_taken: 'vcpu->stat.pf_taken (6.x): page faults KVM handled',
  pf_emulate: 'vcpu->stat.pf_emulate (6.x): faults that ended in emulation (MMIO)',
  pf_mmio_spte_created: 'vcpu->stat.pf_mmio_spte_created (6.x): MMIO SPTEs installed',
  cmpxchg_failed: 'cmpxchg on an SPTE that another actor had changed since it was read (races)',
  pf_retry: 'faults that returned RET_PF_RETRY: the vCPU re-enters the guest and faults again',
  frozen_seen: 'walks that met a frozen SPTE (another actor owns it) and gave up',
};

function Group<K extends string>({
  title,
  names,
  hints,
  values,
  before,
}: {
  title: string;
  names: readonly K[];
  hints: Record<K, string>;
  values: Record<K, number>;
  before: Record<K, number> | undefined;
}) {
  return (
    <table className="stats__group">
      <caption className="stats__caption">{title}</caption>
      <tbody>
        {names.map((name) => {
          const value = values[name];
          const delta = before ? value - before[name] : 0;
          return (
            <tr key={name} title={hints[name]}>
              <th scope="row" className="stats__name">
                {name}
              </th>
              <td className="stats__delta">
                {delta !== 0 && (
                  // Keyed by value so a fresh change restarts the fade even if the delta repeats.
                  <span key={value} className="stats__delta-text">
                    {delta > 0 ? `+${delta}` : String(delta)}
                  </span>
                )}
              </td>
              <td className="stats__value">
                <span
                  key={delta !== 0 ? value : 'same'}
                  className={delta !== 0 ? 'stats__num stats__num--changed' : 'stats__num'}
                  data-testid={`stat-${name}`}
                >
                  {value}
                </span>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

const is6x = (n: string) => (VCPU_STATS_6 as readonly string[]).includes(n);

export function StatsPanel({ stats, counters, shape, previous, kernel }: StatsPanelProps) {
  const names = profileOf(kernel).vcpuStats6
    ? COUNTER_NAMES
    : COUNTER_NAMES.filter((n) => !is6x(n));
  return (
    <section className="stats" aria-label="Stats">
      <h2 className="stats__title">
        Stats <span className="stats__kernel">· kernel {kernel}</span>
      </h2>
      <Group
        title="Kernel stats"
        names={STAT_NAMES}
        hints={STAT_HINTS}
        values={stats}
        before={previous?.stats}
      />
      <Group
        title="Structure"
        names={SHAPE_NAMES}
        hints={SHAPE_HINTS}
        values={shape}
        before={previous?.shape}
      />
      <Group
        title="Counters"
        names={names}
        hints={COUNTER_HINTS}
        values={counters}
        before={previous?.counters}
      />
    </section>
  );
}
