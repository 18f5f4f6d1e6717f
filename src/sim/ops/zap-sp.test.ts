import { describe, expect, it } from 'vitest';
import { SimHarness } from '../harness.ts';

// One NX-split table (role.level 1) at gfn 0x100000 with one present 4K leaf in it.
const SPLIT = `memslot gpa=0x100000000 size=6M backing=2M
access gpa=0x100000000 type=exec`;

describe('kvm_tdp_mmu_zap_sp', () => {
  it('direct: reads *sp->ptep once, writes 0 there, and handle_removed_pt reads 512 and writes the one leaf', () => {
    const h = new SimHarness().run(SPLIT);
    const before = h.counters();
    h.run('zap_sp gpa=0x100000000 level=1 strategy=direct');
    const after = h.counters();
    expect(after.spte_reads - before.spte_reads).toBe(1 + 512);
    expect(after.spte_writes - before.spte_writes).toBe(2);
    expect(after.iter_steps - before.iter_steps).toBe(0);
    // 5.18: no flush inside the handler; the caller's one flush.
    expect(after.tlb_flushes_ranged - before.tlb_flushes_ranged).toBe(0);
    expect(after.tlb_flushes_full - before.tlb_flushes_full).toBe(1);
    expect(h.stats()).toEqual({ pages_4k: 0, pages_2m: 0, pages_1g: 0, nx_lpage_splits: 0 });
    expect(after.sp_freed).toBe(1);
  });

  it("walk: 3 visits and 7 reads on a 4-level root before the 512, a ranged flush in the 5.16 handler plus the caller's", () => {
    const h = new SimHarness().run(SPLIT);
    const before = h.counters();
    h.run('zap_sp gpa=0x100000000 level=1 strategy=walk');
    const after = h.counters();
    expect(after.iter_steps - before.iter_steps).toBe(3);
    expect(after.spte_reads - before.spte_reads).toBe(7 + 512);
    expect(after.spte_writes - before.spte_writes).toBe(2);
    expect(after.tlb_flushes_ranged - before.tlb_flushes_ranged).toBe(1);
    expect(after.tlb_flushes_full - before.tlb_flushes_full).toBe(1);
    expect(h.stats()).toEqual({ pages_4k: 0, pages_2m: 0, pages_1g: 0, nx_lpage_splits: 0 });
  });

  it('walk and direct leave identical tables when the root is valid and the only one', () => {
    const walk = new SimHarness().run(`${SPLIT}\nzap_sp gpa=0x100000000 level=1 strategy=walk`);
    const direct = new SimHarness().run(`${SPLIT}\nzap_sp gpa=0x100000000 level=1 strategy=direct`);
    const tables = (h: SimHarness) =>
      h.sim.kvm.sps.filter((s) => s.linked).map((s) => [s.id, Array.from(s.spt).join()]);
    expect(tables(walk)).toEqual(tables(direct));
    expect(walk.stats()).toEqual(direct.stats());
  });

  it('walk takes and drops a reference on each valid root it visits', () => {
    const h = new SimHarness().run(SPLIT);
    const m = h.mark;
    h.run('zap_sp gpa=0x100000000 level=1 strategy=walk');
    const refs = h.events(m).filter((e) => e.type === 'rootRefcount');
    expect(refs).toMatchObject([
      { sp: 0, old: 1, new: 2 },
      { sp: 0, old: 2, new: 1 },
    ]);
  });

  it('Under an invalidated root the walk never reaches the table; direct zaps it through sp->ptep', () => {
    const setup = `${SPLIT}\ninvalidate_roots\naccess gpa=0x200000000`;
    const walk = new SimHarness().run(`${setup}\nzap_sp gpa=0x100000000 level=1 strategy=walk`);
    expect(walk.stats()).toMatchObject({ pages_4k: 1, nx_lpage_splits: 1 });
    const direct = new SimHarness().run(`${setup}\nzap_sp gpa=0x100000000 level=1 strategy=direct`);
    expect(direct.stats()).toMatchObject({ pages_4k: 0, nx_lpage_splits: 0 });
    expect(direct.sim.kvm.sps[0]?.invalid).toBe(true);
  });

  it("walk zaps whatever maps the SP's GFNs in the valid roots: the new root's 2M leaf, not the target", () => {
    const h = new SimHarness().run(
      `${SPLIT}\ninvalidate_roots\naccess gpa=0x100000000 type=read\nexpect pages_2m=1 roots=2`,
    );
    h.run(
      'zap_sp gpa=0x100000000 level=1 strategy=walk\nexpect pages_2m=0 pages_4k=1 nx_lpage_splits=1',
    );
  });

  it('refuses a table that is not there, naming the range, and changes nothing', () => {
    const h = new SimHarness().run(SPLIT);
    const n = h.mark;
    expect(() => h.sim.zapSp(0x200000, 1, 'direct')).toThrow(
      /no table with role.level=1 covers gfn 0x200000/,
    );
    expect(() => h.sim.zapSp(0x100000, 4, 'direct')).toThrow(/role.level 4 is the root/);
    expect(h.mark).toBe(n);
  });
});
