import { describe, expect, it } from 'vitest';
import { SimHarness } from './harness.ts';
import { checkInvariants } from './invariants.ts';

const SPLIT = `memslot gpa=0x100000000 size=6M backing=2M
access gpa=0x100000000 type=exec
access gpa=0x100200000`;

describe('checkInvariants', () => {
  it('holds on a sound model', () => {
    expect(checkInvariants(new SimHarness().run(SPLIT).sim.kvm)).toEqual([]);
  });

  it('notices a stat that disagrees with a recount of the present leaves', () => {
    const kvm = new SimHarness().run(SPLIT).sim.kvm;
    kvm.pages[2] = 5;
    expect(checkInvariants(kvm)).toEqual(['pages_2m is 5 but 1 leaves are present']);
  });

  it('notices an NX list that does not match the accounted tables', () => {
    const kvm = new SimHarness().run(SPLIT).sim.kvm;
    kvm.nxList.clear();
    expect(checkInvariants(kvm)).toContain(
      'the NX list does not hold exactly the lpage_disallowed tables',
    );
  });

  it('notices a table reachable while freed, and a ptep that does not point back', () => {
    const kvm = new SimHarness().run(SPLIT).sim.kvm;
    const l1 = kvm.nxList.head()!;
    l1.freed = true;
    l1.parentIndex = 7;
    const bad = checkInvariants(kvm);
    expect(bad).toContain(`sp ${l1.id} is reachable from sp 2[0] but freed`);
    expect(bad).toContain(`sp 2[0] points to sp ${l1.id}, whose ptep does not point back`);
  });

  it('notices a leaf above level 3 and REMOVED_SPTE left in a live table', () => {
    const kvm = new SimHarness().run(SPLIT).sim.kvm;
    const root = kvm.roots[0]!;
    root.spt[2 * 3] = 0x8f3;
    root.spt[2 * 4] = 0x5a0;
    const bad = checkInvariants(kvm);
    expect(bad).toContain('sp 0[3] is a leaf at level 4');
    expect(bad).toContain('sp 0[4] is REMOVED_SPTE in a live table');
  });
});
