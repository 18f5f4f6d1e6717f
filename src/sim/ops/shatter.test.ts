import { describe, expect, it } from 'vitest';
import { SimHarness } from '../harness.ts';

describe('tdp_mmu_split_huge_page', () => {
  it('splits a 2M leaf into 512 executable 4K leaves in a new table, with no TLB flush', () => {
    const h = new SimHarness().run(
      'memslot gpa=0x100000000 size=2M backing=2M\naccess gpa=0x100000000',
    );
    const before = h.counters();
    h.run(
      'shatter gpa=0x100000000 level=2\nexpect pages_2m=0 pages_4k=512 nx_lpage_splits=0 tables=3',
    );
    const after = h.counters();
    expect(after.tlb_flushes).toBe(before.tlb_flushes);
    // 512 writes into the unlinked table, then the link.
    expect(after.spte_writes - before.spte_writes).toBe(513);
    expect(h.sim.spteAt(0x100000 + 7, 1)).toBe(0x0600004000007b77n);
    // The children now permit exec: no fault for an exec access.
    h.run('access gpa=0x100007000 type=exec\nexpect faults=1');
  });

  it('splits a 1G leaf into 512 2M leaves, which stay non-executable', () => {
    const h = new SimHarness().run(
      'memslot gpa=0x40000000 size=1G backing=1G\naccess gpa=0x40000000',
    );
    h.run('shatter gpa=0x40000000 level=3\nexpect pages_1g=0 pages_2m=512');
    expect(h.sim.spteAt(0x40000 + 0x200, 2)).toBe(0x0600004000200bf3n);
  });

  it('refuses a level with no huge leaf there, and a level that cannot be huge, changing nothing', () => {
    const h = new SimHarness().run(
      'memslot gpa=0x100000000 size=2M backing=4K\naccess gpa=0x100000000',
    );
    const n = h.mark;
    expect(() => h.sim.shatter(0x100000, 2)).toThrow(
      /no valid root maps gfn 0x100000 with a huge leaf at level 2/,
    );
    expect(() => h.sim.shatter(0x100000, 1)).toThrow(/only 2M \(level 2\) and 1G \(level 3\)/);
    expect(h.mark).toBe(n);
  });
});
