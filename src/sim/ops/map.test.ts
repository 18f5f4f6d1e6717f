import { describe, expect, it } from 'vitest';
import type { SimEvent } from '../events.ts';
import { SimHarness } from '../harness.ts';

const GFN = 0x100000; // GPA 4 GiB, as in the kernel's nx_huge_pages_test
const LEAF_2M = 0x0600004000000bf3n; // pfn 0x4000000, bit 7, no X
const LEAF_4K_X = 0x0600004000000b77n;
const nonLeaf = (spId: number) => 0x10000907n + BigInt(spId) * 0x1000n;

/** Events without the iterator's visits, in a compact form that reads like a kernel trace. */
function story(events: SimEvent[]): string[] {
  return events.flatMap((e) => {
    switch (e.type) {
      case 'spteChanged':
        return [
          `spte L${e.level} ${e.gfn.toString(16)}: ${e.old.toString(16)} -> ${e.new.toString(16)}${e.handled ? '' : ' (raw)'}`,
        ];
      case 'tlbFlush':
        return [e.ranged ? `flush ${e.gfn.toString(16)}+${e.pages}` : 'flush all'];
      case 'spAllocated':
        return [`alloc sp ${e.sp} L${e.level} gfn ${e.gfn.toString(16)}`];
      case 'nxAccounted':
        return [`nx account sp ${e.sp}`];
      case 'nxUnaccounted':
        return [`nx unaccount sp ${e.sp}`];
      case 'spFreed':
        return [`free sp ${e.sp}`];
      default:
        return [];
    }
  });
}

const twoMegSlot = 'memslot gpa=0x100000000 size=6M backing=2M';

describe('kvm_tdp_mmu_map', () => {
  it('When a read faults in a 2M-backed slot, it builds root, L3 and L2 tables and a 2M leaf without X', () => {
    const h = new SimHarness().run(twoMegSlot);
    const m = h.mark;
    h.run('access gpa=0x100000000 type=read');
    expect(story(h.events(m))).toEqual([
      'alloc sp 0 L4 gfn 0',
      'alloc sp 1 L3 gfn 0',
      `spte L4 0: 0 -> ${nonLeaf(1).toString(16)}`,
      'alloc sp 2 L2 gfn 100000',
      `spte L3 100000: 0 -> ${nonLeaf(2).toString(16)}`,
      `spte L2 100000: 0 -> ${LEAF_2M.toString(16)}`,
    ]);
    expect(h.sim.spteAt(GFN, 2)).toBe(LEAF_2M);
    expect(h.stats()).toEqual({ pages_4k: 0, pages_2m: 1, pages_1g: 0, nx_lpage_splits: 0 });
    // Visits: L4, L3, L2. Reads: 1 at the start, then 2 per step down (re-read + child).
    expect(h.counters()).toMatchObject({
      iter_steps: 3,
      spte_reads: 5,
      spte_writes: 3,
      faults: 1,
      pf_fixed: 1,
    });
  });

  it('When an exec fault hits a non-executable 2M leaf, the leaf is zapped and an NX-accounted table with one 4K leaf replaces it', () => {
    const h = new SimHarness().run(`${twoMegSlot}\naccess gpa=0x100000000 type=read`);
    const m = h.mark;
    h.run('access gpa=0x100000000 type=exec');
    expect(story(h.events(m))).toEqual([
      `spte L2 100000: ${LEAF_2M.toString(16)} -> 5a0`,
      'flush 100000+512',
      'spte L2 100000: 5a0 -> 0 (raw)',
      'alloc sp 3 L1 gfn 100000',
      `spte L2 100000: 0 -> ${nonLeaf(3).toString(16)}`,
      'nx account sp 3',
      `spte L1 100000: 0 -> ${LEAF_4K_X.toString(16)}`,
    ]);
    expect(h.stats()).toEqual({ pages_4k: 1, pages_2m: 0, pages_1g: 0, nx_lpage_splits: 1 });
  });

  it('When another page of a split 2M range is read, disallowed_hugepage_adjust keeps it at 4K', () => {
    const h = new SimHarness().run(
      `${twoMegSlot}\naccess gpa=0x100000000 type=exec\naccess gpa=0x100001000 type=read`,
    );
    expect(h.stats()).toEqual({ pages_4k: 2, pages_2m: 0, pages_1g: 0, nx_lpage_splits: 1 });
    const done = h.events().filter((e) => e.type === 'faultDone');
    expect(done.map((e) => e.type === 'faultDone' && [e.goalLevel, e.reqLevel])).toEqual([
      [1, 2],
      [1, 2],
    ]);
  });

  it('With 1G backing an exec fault accounts both the L2 and the L1 table (req_level >= iter.level)', () => {
    const h = new SimHarness().run(
      'memslot gpa=0x40000000 size=1G backing=1G\naccess gpa=0x40000000 type=exec',
    );
    expect(h.stats()).toEqual({ pages_4k: 1, pages_2m: 0, pages_1g: 0, nx_lpage_splits: 2 });
    expect([...h.sim.kvm.nxList].map((sp) => sp.level)).toEqual([2, 1]);
  });

  it('With 1G backing a read maps a 1G leaf', () => {
    const h = new SimHarness().run(
      'memslot gpa=0x40000000 size=2G backing=1G\naccess gpa=0x40000000',
    );
    expect(h.stats()).toEqual({ pages_4k: 0, pages_2m: 0, pages_1g: 1, nx_lpage_splits: 0 });
    expect(h.sim.spteAt(0x40000, 3)).toBe(0x0600004000000bf3n);
  });

  it('With NX huge pages off an exec fault maps a 2M leaf with X and accounts nothing', () => {
    const h = new SimHarness().run(
      `vm nx_huge_pages=off\n${twoMegSlot}\naccess gpa=0x100000000 type=exec`,
    );
    expect(h.stats()).toEqual({ pages_4k: 0, pages_2m: 1, pages_1g: 0, nx_lpage_splits: 0 });
    expect(h.sim.spteAt(GFN, 2)).toBe(0x0600004000000bf7n);
  });

  it('With NX huge pages off a 2M read over an emptied 4K table replaces it with a huge leaf, removes the table and flushes', () => {
    const h = new SimHarness().run(
      `vm nx_huge_pages=off\n${twoMegSlot}\naccess gpa=0x100000000\nshatter gpa=0x100000000 level=2\nzap_gfn_range start=0x100000 end=0x100200`,
    );
    expect(h.stats()).toEqual({ pages_4k: 0, pages_2m: 0, pages_1g: 0, nx_lpage_splits: 0 });
    const m = h.mark;
    h.run('access gpa=0x100000000');
    const s = story(h.events(m));
    // The huge leaf goes in with a cmpxchg; handle_removed_pt(shared) then exchanges all 512 entries.
    // Without Dirty: the old (non-leaf) SPTE is writable, so 5.18's make_spte() takes the
    // is_writable_pte(old_spte) exit before it sets D.
    expect(s[0]).toBe(`spte L2 100000: ${nonLeaf(3).toString(16)} -> 6000040000009f7`);
    expect(s.slice(1, 513).every((l) => l.startsWith('spte L1') && l.endsWith('0 -> 5a0'))).toBe(
      true,
    );
    expect(s.slice(513)).toEqual(['flush 100000+262144', 'free sp 3']);
    expect(h.stats().pages_2m).toBe(1);
  });

  it('With NX huge pages on the same read walks into the leftover table and maps 4K (the 5.18 gotcha)', () => {
    const h = new SimHarness().run(
      `${twoMegSlot}\naccess gpa=0x100000000\nshatter gpa=0x100000000 level=2\nzap_gfn_range start=0x100000 end=0x100200\naccess gpa=0x100000000`,
    );
    expect(h.stats()).toEqual({ pages_4k: 1, pages_2m: 0, pages_1g: 0, nx_lpage_splits: 0 });
  });

  it('Keeps the partial first and last 2M frames of an unaligned memslot at 4K (lpage_info)', () => {
    const h = new SimHarness().run(
      'memslot gpa=0x100100000 size=4M backing=2M\naccess gpa=0x100100000\naccess gpa=0x100200000\naccess gpa=0x100400000',
    );
    expect(h.stats()).toEqual({ pages_4k: 2, pages_2m: 1, pages_1g: 0, nx_lpage_splits: 0 });
  });

  it('A fault outside every memslot installs an MMIO SPTE at 4K and returns RET_PF_EMULATE', () => {
    const h = new SimHarness().run('access gpa=0xfee00000 type=write');
    const spte = h.sim.spteAt(0xfee00, 1);
    expect(spte).toBe(0xfee00006n); // generation 0: W+X, no R, the GPA
    expect(h.stats()).toEqual({ pages_4k: 0, pages_2m: 0, pages_1g: 0, nx_lpage_splits: 0 });
    const done = h.events().find((e) => e.type === 'faultDone');
    expect(done).toMatchObject({ ret: 'RET_PF_EMULATE' });
    // The next access takes the EPT-misconfig path: emulation, no page fault.
    h.run('access gpa=0xfee00000 type=read');
    expect(h.counters().faults).toBe(1);
  });

  it('A new memslot bumps the generation, so a stale MMIO SPTE faults again and becomes a leaf', () => {
    const h = new SimHarness().run('access gpa=0x100000000');
    expect(h.stats().pages_4k).toBe(0);
    h.run('memslot gpa=0x100000000 size=4K\naccess gpa=0x100000000');
    expect(h.counters().faults).toBe(2);
    expect(h.stats().pages_4k).toBe(1);
  });

  it('A permitted access does not fault; on 5.18 a forced fault drops Dirty (FIXED), the next is spurious', () => {
    const h = new SimHarness().run(
      `${twoMegSlot}\naccess gpa=0x100000000\naccess gpa=0x100000000 type=write`,
    );
    expect(h.counters().faults).toBe(1);
    const m = h.mark;
    h.run('fault gpa=0x100000000 type=read');
    // make_spte() over a writable SPTE skips D (is_writable_pte(old_spte)): a new value, rewritten.
    expect(story(h.events(m))).toEqual([
      `spte L2 100000: ${LEAF_2M.toString(16)} -> 6000040000009f3`,
    ]);
    expect(h.counters()).toMatchObject({ faults: 2, pf_fixed: 2, pf_spurious: 0 });
    h.run('fault gpa=0x100000000 type=write');
    expect(h.counters()).toMatchObject({ faults: 3, pf_fixed: 2, pf_spurious: 1 });
  });

  it('Builds 5-level paging with a level-5 root', () => {
    const h = new SimHarness().run(
      `vm levels=5 phys_bits=52\n${twoMegSlot}\naccess gpa=0x100000000`,
    );
    expect(h.sim.kvm.roots[0]?.level).toBe(5);
    expect(h.counters()).toMatchObject({ iter_steps: 4, sp_allocated: 4 });
  });
});

describe('access_range', () => {
  it('touches every page; only pages the SPTEs do not yet permit fault', () => {
    const h = new SimHarness().run(`${twoMegSlot}\naccess_range gpa=0x100000000 size=6M type=read`);
    expect(h.counters().faults).toBe(3);
    expect(h.stats().pages_2m).toBe(3);
    h.run(
      'access_range gpa=0x100000000 size=16K type=exec\nexpect faults=7 pages_4k=4 nx_lpage_splits=1',
    );
  });
});
