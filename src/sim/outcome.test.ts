import { describe, expect, it } from 'vitest';
import { SimHarness } from './harness.ts';
import { outcomeLine } from './outcome.ts';
import { parseScenario } from './scenario/parse.ts';

/** The outcome line of every statement, by script line, with invariants checked after each. */
function outcomes(text: string): Map<number, string | null> {
  const h = new SimHarness();
  const lines = text.split('\n');
  const out = new Map<number, string | null>();
  for (const st of parseScenario(text).statements) {
    const from = h.mark;
    // Run the one statement in place so its line number stays the script's.
    h.run(lines.map((l, i) => (i === st.line - 1 ? l : '')).join('\n'));
    out.set(st.line, outcomeLine(h.sim.kvm.log, h.mirror.spOf, st.kind, from, h.mark));
  }
  return out;
}

describe('operation outcomes, told from the events', () => {
  it('an access says whether the CPU walk exited, and what the fault returned', () => {
    const o = outcomes(`vm recovery_ratio=1
memslot gpa=0x100000000 size=4M backing=2M
access gpa=0x100000000 type=read
access gpa=0x100000000 type=read
access gpa=0x100000000 type=exec
access gpa=0x100000000 type=exec
fault gpa=0x100000000 type=exec
`);
    // Root, L3 and L2 tables, then the 2M leaf: one SPTE in each table on the path.
    expect(o.get(3)).toBe(
      'EPT violation → kvm_tdp_page_fault() returned RET_PF_FIXED: gfn 0x100000 mapped at 2M (3 SPTE changes, 3 tables allocated)',
    );
    // The 2M leaf is present and readable: the hardware walk ends there, KVM never runs.
    expect(o.get(4)).toBe(
      "no exit: the CPU's walk found a 2M leaf at sp 2[0] that permits the access",
    );
    // Exec on the NX-stripped 2M leaf: REMOVED_SPTE, 0, the new L1 pointer, the 4K leaf.
    expect(o.get(5)).toBe(
      'EPT violation → kvm_tdp_page_fault() returned RET_PF_FIXED: gfn 0x100000 mapped at 4K (4 SPTE changes, 1 table allocated)',
    );
    expect(o.get(6)).toBe(
      "no exit: the CPU's walk found a 4K leaf at sp 3[0] that permits the access",
    );
    // A forced fault on the writable 4K leaf: 5.18's make_spte() skips Dirty, so the SPTE changes.
    expect(o.get(7)).toBe(
      'kvm_tdp_page_fault() returned RET_PF_FIXED: gfn 0x100000 mapped at 4K (1 SPTE change)',
    );
  });

  it('recover_nx says to_zap, what each iteration took, and why the walk missed', () => {
    const o = outcomes(`vm recovery_ratio=1
memslot gpa=0x100000000 size=6M backing=2M
access gpa=0x100000000 type=exec
invalidate_roots
access gpa=0x100000000 type=read
recover_nx strategy=walk
recover_nx strategy=direct
recover_nx
`);
    expect(o.get(4)).toBe('1 root marked invalid; nothing zapped');
    // sp 3 (the accounted L1 table) hangs under root sp 0; the walk visits only the new root.
    expect(o.get(6)).toBe(
      'to_zap = 1: 1 iteration, 1 returned true: sp 3 not reached (it hangs under root sp 0, which is invalid; other SPTEs in its range were zapped)',
    );
    expect(o.get(7)).toBe('to_zap = 1: 1 iteration, 1 returned true: sp 3 zapped');
    expect(o.get(8)).toBe('to_zap = 0: nothing to recover, nothing zapped');
  });

  it('a walk that misses the head picks it again on every iteration', () => {
    const o = outcomes(`vm recovery_ratio=1
memslot gpa=0x100000000 size=6M backing=2M
access gpa=0x100000000 type=exec
access gpa=0x100200000 type=exec
invalidate_roots
recover_nx strategy=walk
`);
    // Two accounted tables, both under the invalid root 0; no valid root exists yet.
    expect(o.get(6)).toBe(
      'to_zap = 2: 2 iterations, 0 returned true: sp 3 not reached (it hangs under root sp 0, which is invalid) (×2)',
    );
  });

  it('zap_sp says what kvm_tdp_mmu_zap_sp() returned and what it wrote', () => {
    const o = outcomes(`memslot gpa=0x100000000 size=4M backing=2M
access gpa=0x100000000 type=exec
access gpa=0x100200000 type=exec
zap_sp gpa=0x100000000 level=1 strategy=walk
zap_sp gpa=0x100200000 level=1 strategy=direct
`);
    expect(o.get(4)).toBe('returned true: the walk visited 1 root; 2 SPTE changes, 1 table freed');
    // sp 4 hangs from sp 2 (the L2 table) at index 1; its non-leaf SPTE points at PFN 0x10004.
    expect(o.get(5)).toBe(
      'returned true: *sp->ptep (sp 2[1]) 0x10004907 → 0x0 by store; 2 SPTE changes, 1 table freed',
    );
  });

  it('6.18: the atomic zap names the cmpxchg, and recovery under the read lock says what it took', () => {
    const o = outcomes(`vm kernel=6.18 recovery_ratio=1
memslot gpa=0x100000000 size=6M backing=2M
access gpa=0x100000000 type=exec
access gpa=0x100200000 type=exec
zap_sp gpa=0x100000000 level=1
recover_nx
`);
    // The exec fault on an unmapped 2M frame maps 4K directly (no huge leaf to split).
    expect(o.get(5)).toBe(
      'returned true: *sp->ptep (sp 2[0]) 0x8000000010003907 → 0x8000000000000000 by cmpxchg; 513 SPTE changes, 1 table freed',
    );
    expect(o.get(6)).toBe('to_zap = 1: 1 iteration, 1 returned true: sp 4 zapped');
  });

  it('setup statements have no outcome line', () => {
    const o = outcomes(
      'vm levels=4\nmemslot gpa=0x100000000 size=2M backing=4K\nexpect pages_4k=0\n',
    );
    expect([...o.values()]).toEqual([null, null, null]);
  });
});
