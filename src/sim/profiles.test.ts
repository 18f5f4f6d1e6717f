// Each kernel profile against values derived by hand from the 5.16.10, 5.18.12 and 6.x sources.
import { describe, expect, it } from 'vitest';
import type { SimEvent } from './events.ts';
import { SimHarness } from './harness.ts';
import { kvmTdpMmuZapSpAtomic, kvmTdpMmuZapSpDirect } from './ops/zap-sp.ts';
import { drain } from './pause.ts';
import { KERNELS, PROFILES, type KernelId } from './profile.ts';

const GFN = 0x100000;
const SLOT = 'memslot gpa=0x100000000 size=6M backing=2M';
const NP6 = 0x8000000000000000n; // SHADOW_NONPRESENT_VALUE
const FROZEN6 = 0x80000000000005a0n;

const on = (kernel: KernelId, script = '') =>
  new SimHarness().run(`vm kernel=${kernel} recovery_ratio=1\n${SLOT}\n${script}`);

/** SPTE changes as `L<level> <gfn>: old -> new`, the way the tracepoint reads. */
const changes = (events: SimEvent[]) =>
  events.flatMap((e) =>
    e.type === 'spteChanged'
      ? [`L${e.level} ${e.gfn.toString(16)}: ${e.old.toString(16)} -> ${e.new.toString(16)}`]
      : [],
  );
const kinds = (events: SimEvent[]) => events.map((e) => e.type);

// The kernel selftest nx_huge_pages_test (recovery_ratio=1): stages 1-6 and the reclaim between.
const SELFTEST = `access gpa=0x100000000 type=read
expect pages_2m=1 nx_lpage_splits=0
access gpa=0x100200000 type=read
expect pages_2m=2 nx_lpage_splits=0
access gpa=0x100000000 type=exec
expect pages_2m=1 nx_lpage_splits=1
access gpa=0x100400000 type=exec
expect pages_2m=1 nx_lpage_splits=2
recover_nx
expect pages_2m=1 nx_lpage_splits=0
access gpa=0x100000000 type=read
expect pages_2m=2 nx_lpage_splits=0
access gpa=0x100400000 type=read
expect pages_2m=3 nx_lpage_splits=0`;

describe('nx_huge_pages_test under every profile', () => {
  // What the selftest asserts (pages_2m, nx_lpage_splits) is the same everywhere; the rest is not.
  const before = {
    // 5.x: the exec fault zaps the 2M leaf and maps one 4K page; 6.18 splits it into 512.
    '5.16': { pages_4k: 2, tlb_flushes_ranged: 1, tlb_flushes_full: 0 },
    '5.18': { pages_4k: 2, tlb_flushes_ranged: 1, tlb_flushes_full: 0 },
    '6.18': { pages_4k: 513, tlb_flushes_ranged: 0, tlb_flushes_full: 0 },
  } as const;
  const after = {
    // 5.16: each removed table flushes its own range, then the batch flush.
    '5.16': { pages_4k: 0, tlb_flushes_ranged: 3, tlb_flushes_full: 1, iter_steps: 26 },
    '5.18': { pages_4k: 0, tlb_flushes_ranged: 1, tlb_flushes_full: 1, iter_steps: 20 },
    '6.18': { pages_4k: 0, tlb_flushes_ranged: 0, tlb_flushes_full: 1, iter_steps: 20 },
  } as const;

  it.each(KERNELS)('kernel %s', (kernel) => {
    const lines = SELFTEST.split('\n');
    const h = on(kernel, lines.slice(0, 8).join('\n'));
    expect({ ...h.stats(), ...h.counters() }).toMatchObject(before[kernel]);
    h.run(lines.slice(8).join('\n'));
    expect(h.failures).toEqual([]);
    expect({ ...h.stats(), ...h.counters() }).toMatchObject(after[kernel]);
  });
});

describe('6.18: SHADOW_NONPRESENT_VALUE, FROZEN_SPTE and bit 63 on present SPTEs', () => {
  it('fills a fresh table with 0x8000000000000000 and sets bit 63 (suppress #VE) on what it installs', () => {
    const h = on('6.18');
    const m = h.mark;
    h.run('access gpa=0x100000000 type=read');
    expect(changes(h.events(m))).toEqual([
      'L4 0: 8000000000000000 -> 8000000010001907',
      'L3 100000: 8000000000000000 -> 8000000010002907',
      'L2 100000: 8000000000000000 -> 8600004000000bf3',
    ]);
    // An entry nobody wrote reads as non-present.
    expect(h.sim.spteAt(GFN + 0x200, 2)).toBe(NP6);
    expect(h.events(m).filter((e) => e.type === 'spAllocated')).toMatchObject([
      { filled: true },
      { filled: true },
      { filled: true },
    ]);
  });

  it('zaps to SHADOW_NONPRESENT_VALUE, and 5.18 to 0', () => {
    for (const [kernel, np] of [
      ['6.18', NP6],
      ['5.18', 0n],
    ] as const) {
      const h = on(kernel, 'access gpa=0x100000000');
      const m = h.mark;
      h.run('zap_gfn_range start=0x100000 end=0x100200');
      expect(changes(h.events(m))).toEqual([
        `L2 100000: ${(kernel === '6.18' ? 0x8600004000000bf3n : 0x0600004000000bf3n).toString(16)} -> ${np.toString(16)}`,
      ]);
    }
  });
});

describe('6.18: an exec fault splits the NX huge leaf in place (6.2)', () => {
  it('512 executable 4K children, the table tracked, no flush, and the fault is spurious', () => {
    const h = on('6.18', 'access gpa=0x100000000 type=read');
    const m = h.mark;
    h.run('access gpa=0x100000000 type=exec');
    const ev = h.events(m);
    const children = ev.filter((e) => e.type === 'spteChanged' && e.sp === 3);
    expect(children).toHaveLength(512);
    expect(children[0]).toMatchObject({ handled: false, new: 0x8600004000000b77n });
    expect(children[511]).toMatchObject({ handled: false, new: 0x86000040001ffb77n });
    expect(changes(ev.filter((e) => e.type === 'spteChanged' && e.handled))).toEqual([
      'L2 100000: 8600004000000bf3 -> 8000000010003907',
    ]);
    expect(ev.some((e) => e.type === 'tlbFlush')).toBe(false);
    expect(ev.find((e) => e.type === 'faultDone')).toMatchObject({ ret: 'RET_PF_SPURIOUS' });
    expect(h.stats()).toEqual({ pages_4k: 512, pages_2m: 0, pages_1g: 0, nx_lpage_splits: 1 });
    expect(h.counters()).toMatchObject({ pf_taken: 2, pf_fixed: 1, pf_spurious: 1 });
    expect(h.sim.kvm.sp(3).hugeDisallowed).toBe(true);
  });

  it('5.18 zaps the leaf instead (freeze, ranged flush, non-present), then maps one 4K page', () => {
    const h = on('5.18', 'access gpa=0x100000000 type=read');
    const m = h.mark;
    h.run('access gpa=0x100000000 type=exec');
    expect(changes(h.events(m))).toEqual([
      'L2 100000: 600004000000bf3 -> 5a0',
      'L2 100000: 5a0 -> 0',
      'L2 100000: 0 -> 10003907',
      'L1 100000: 0 -> 600004000000b77',
    ]);
    expect(h.events(m).find((e) => e.type === 'tlbFlush')).toMatchObject({
      ranged: true,
      gfn: GFN,
      pages: 512,
    });
  });
});

describe('disallowed_hugepage_adjust(): which tables force 4K', () => {
  // shatter leaves an ordinary table (not NX-disallowed); zapping its leaves empties it.
  const emptied =
    'access gpa=0x100000000\nshatter gpa=0x100000000 level=2\nzap_gfn_range start=0x100000 end=0x100200 mode=leafs\naccess gpa=0x100000000';

  it('5.18: any table at the goal level forces 4K (the leftover-table gotcha)', () => {
    const h = on('5.18', emptied);
    expect(h.stats()).toMatchObject({ pages_4k: 1, pages_2m: 0 });
  });

  it('6.18: only an nx_huge_page_disallowed table does; a read replaces the ordinary table with a 2M leaf', () => {
    const h = on('6.18', emptied);
    expect(h.stats()).toMatchObject({ pages_4k: 0, pages_2m: 1 });
    // The flush covers the SPTE's own 2M (kvm_flush_remote_tlbs_gfn(gfn, level)).
    const flushes = h.events().filter((e) => e.type === 'tlbFlush');
    expect(flushes.at(-1)).toMatchObject({ ranged: true, gfn: GFN, pages: 512 });
  });

  it('6.18: a table an exec fault built still forces 4K for a read', () => {
    const h = on(
      '6.18',
      'access gpa=0x100400000 type=exec\nzap_gfn_range start=0x100400 end=0x100600',
    );
    h.run('access gpa=0x100400000 type=read');
    expect(h.stats()).toMatchObject({ pages_4k: 1, pages_2m: 0 });
  });
});

describe('make_spte() and a second fault on a writable leaf', () => {
  it.each([
    ['5.16', 'RET_PF_FIXED', 0x0600004000000977n],
    ['5.18', 'RET_PF_FIXED', 0x0600004000000977n],
    ['6.18', 'RET_PF_SPURIOUS', 0x8600004000000b77n],
  ] as const)('kernel %s: %s', (kernel, ret, spte) => {
    // A 4K-backed slot: the first write fault maps a writable, dirty 4K leaf.
    const h = new SimHarness().run(
      `vm kernel=${kernel}\nmemslot gpa=0x200000000 size=4M backing=4K\nfault gpa=0x200000000 type=write`,
    );
    const m = h.mark;
    h.run('fault gpa=0x200000000 type=write');
    expect(h.events(m).find((e) => e.type === 'faultDone')).toMatchObject({ ret });
    // 5.x: is_writable_pte(old_spte) skips the Dirty bit (0x200), so the value changes.
    expect(h.sim.spteAt(0x200000, 1)).toBe(spte);
  });
});

describe('NX recovery as kvm_recover_nx_huge_pages() under the read lock (6.18)', () => {
  it('unaccounts first, checks the pointer, cmpxchgs the parent, freezes all 512 children, flushes once', () => {
    const h = on('6.18', 'access gpa=0x100400000 type=exec');
    const m = h.mark;
    h.run('recover_nx');
    const ev = h.events(m);
    const t = kinds(ev).filter((k) => k !== 'spteChanged');
    expect(t).toEqual([
      'opBegin',
      'mmuLock',
      'nxUnaccounted',
      'spUnlinked',
      'nxRecoverPick',
      'tlbFlush',
      'mmuLock',
      'spFreed',
      'opEnd',
    ]);
    expect(ev[1]).toMatchObject({ type: 'mmuLock', mode: 'read' });
    const writes = ev.filter((e) => e.type === 'spteChanged');
    expect(writes).toHaveLength(513);
    expect(writes[0]).toMatchObject({ sp: 2, atomic: true, shared: true, new: NP6 });
    expect(writes.slice(1).every((e) => e.type === 'spteChanged' && e.new === FROZEN6)).toBe(true);
    // One read: *sp->ptep. The shared handler exchanges instead of reading.
    expect(ev.reduce((n, e) => n + e.reads, 0)).toBe(1);
    expect(h.stats()).toEqual({ pages_4k: 0, pages_2m: 0, pages_1g: 0, nx_lpage_splits: 0 });
  });

  it('5.18 direct and 5.16 walk hold the write lock and let the handler unaccount', () => {
    for (const kernel of ['5.18', '5.16'] as const) {
      const h = on(kernel, 'access gpa=0x100400000 type=exec');
      const m = h.mark;
      h.run('recover_nx');
      const ev = h.events(m);
      expect(ev[1]).toMatchObject({ type: 'mmuLock', mode: 'write' });
      const t = kinds(ev);
      expect(t.indexOf('spteChanged')).toBeLessThan(t.indexOf('nxUnaccounted'));
    }
  });

  it('the pointer check: a table a vCPU replaced meanwhile is skipped; 5.18 would zap the new leaf', () => {
    // What the race does: recovery unaccounts sp 3, then a vCPU read (the child is no longer
    // disallowed) replaces the table with a 2M leaf. Recovery then looks at sp->ptep.
    for (const [zap, pages2m, returned] of [
      [kvmTdpMmuZapSpAtomic, 1, false],
      [kvmTdpMmuZapSpDirect, 0, true],
    ] as const) {
      const h = on('6.18', 'access gpa=0x100400000 type=exec');
      const kvm = h.sim.kvm;
      const sp = kvm.sp(3);
      kvm.unaccountNx(sp);
      h.do((sim) => sim.fault(0x100400, 'read'));
      expect(h.stats().pages_2m).toBe(1);
      const m = h.mark;
      expect(drain(zap(kvm, PROFILES['6.18'], sp))).toBe(returned);
      expect(h.stats().pages_2m).toBe(pages2m);
      expect(h.events(m).filter((e) => e.type === 'spteChanged')).toHaveLength(returned ? 1 : 0);
    }
  });

  it('reaches a table under an invalidated root, as 5.18 direct does and 5.16 walk cannot', () => {
    const script = 'access gpa=0x100400000 type=exec\ninvalidate_roots\nrecover_nx';
    expect(on('6.18', script).stats().nx_lpage_splits).toBe(0);
    expect(on('5.18', script).stats().nx_lpage_splits).toBe(0);
    expect(on('5.16', script).stats().nx_lpage_splits).toBe(1);
  });
});

describe('root lifetime', () => {
  const refcounts = (events: SimEvent[]) =>
    events.flatMap((e) => (e.type === 'rootRefcount' ? [`${e.sp}:${e.old}->${e.new}`] : []));

  it('5.16: invalidation takes a reference; the last put zaps the tree and frees the root', () => {
    const h = on('5.16', 'access gpa=0x100000000');
    h.run('invalidate_roots\naccess gpa=0x100000000');
    expect(refcounts(h.events()).slice(1)).toEqual(['0:1->2', '0:2->1', '3:0->1']);
    const m = h.mark;
    h.run('zap_invalidated_roots');
    const ev = h.events(m);
    // zap_gfn_range(0, -1) shared: freeze the top-level SPTE, and the 5.16 handler flushes each
    // removed table's span (sp 2: 1G, sp 1: 512G) before the atomic zap flushes the SPTE's 512G.
    expect(changes(ev).slice(0, 1)).toEqual(['L4 0: 10001907 -> 5a0']);
    expect(changes(ev).at(-1)).toBe('L4 0: 5a0 -> 0');
    expect(ev.filter((e) => e.type === 'tlbFlush')).toMatchObject([
      { ranged: true, gfn: GFN, pages: 512 ** 2 },
      { ranged: true, gfn: 0, pages: 512 ** 3 },
      { ranged: true, gfn: 0, pages: 512 ** 3 },
    ]);
    expect(refcounts(ev)).toEqual(['0:1->0']);
    expect(ev.filter((e) => e.type === 'spFreed').map((e) => e.type === 'spFreed' && e.sp)).toEqual(
      [2, 1, 0],
    );
  });

  it('6.18: a root starts at 2; invalidation takes no reference; the zap puts the TDP MMU one', () => {
    const h = on('6.18', 'access gpa=0x100000000');
    expect(refcounts(h.events())).toEqual(['0:0->2']);
    h.run('invalidate_roots\naccess gpa=0x100000000');
    expect(refcounts(h.events()).slice(1)).toEqual(['0:2->1', '3:0->2']);
    const m = h.mark;
    h.run('zap_invalidated_roots');
    // The yield-safe iterator holds each root while it looks at it; only root 0 is scheduled.
    expect(refcounts(h.events(m))).toEqual(['3:2->3', '3:3->2', '0:1->2', '0:2->1', '0:1->0']);
    // Four passes: 4K, 2M, 1G, then the root level; the 2M leaf goes in the 2M pass.
    const passes = h
      .events(m)
      .filter((e) => e.type === 'iterStep' && e.step === 'start')
      .map((e) => e.type === 'iterStep' && e.level);
    expect(passes).toEqual([4, 4, 4, 4]);
    expect(h.sim.value('roots')).toBe(1);
  });
});

describe('the vm statement and the profile', () => {
  it('levels=5 defaults phys_bits to 52; levels=5 with phys_bits <= 48 is refused with the reason', () => {
    expect(new SimHarness().run('vm levels=5').sim.config.physBits).toBe(52);
    // An address width already above 48 bits is kept.
    expect(new SimHarness().run('vm levels=5 phys_bits=50\nvm levels=5').sim.config.physBits).toBe(
      50,
    );
    const h = new SimHarness();
    expect(() => h.sim.vm({ levels: 5, physBits: 48 })).toThrow(/kvm_mmu_get_tdp_level/);
  });

  it('the kernel cannot change once the paging structure exists', () => {
    const h = on('5.18');
    expect(() => h.sim.vm({ kernel: '6.18' })).toThrow(/before the paging structure exists/);
  });

  it('the 6.x vCPU stats exist only under 6.18', () => {
    const h = on('5.18', 'access gpa=0xfee00000');
    expect(() => h.sim.value('pf_taken')).toThrow(/6.x/);
    const six = on('6.18', 'access gpa=0xfee00000');
    expect(six.counters()).toMatchObject({ pf_taken: 1, pf_emulate: 1, pf_mmio_spte_created: 1 });
    expect(six.counters().pf_fixed).toBe(0);
  });

  it('every opBegin names the kernel, and the mirror learns it from the vm statement', () => {
    const h = on('6.18', 'access gpa=0x100000000');
    const begins = h.events().filter((e) => e.type === 'opBegin');
    expect(begins.every((e) => e.type === 'opBegin' && e.kernel === '6.18')).toBe(true);
    expect(h.mirror.config.kernel).toBe('6.18');
  });
});
