import { describe, expect, it } from 'vitest';
import { SimHarness } from '../harness.ts';

/** Exec faults on `n` different 2M frames of a 2M-backed slot: n NX-accounted tables. */
function splits(n: number, ratio = 60): string {
  const lines = [`vm recovery_ratio=${ratio}`, `memslot gpa=0x100000000 size=${2 * n}M backing=2M`];
  for (let i = 0; i < n; i++)
    lines.push(`access gpa=0x${(0x100000000 + i * 0x200000).toString(16)} type=exec`);
  return lines.join('\n');
}

describe('kvm_recover_nx_lpages', () => {
  it('zaps ceil(nx_lpage_splits / ratio) SPs: 61 splits at ratio 60 is 2', () => {
    const h = new SimHarness().run(splits(61));
    h.run('recover_nx\nexpect nx_lpage_splits=59 pages_4k=59');
  });

  it('recovers the oldest first (the NX list is FIFO)', () => {
    const h = new SimHarness().run(splits(3, 2));
    const oldest = [...h.sim.kvm.nxList].map((sp) => sp.id);
    h.run('recover_nx\nexpect nx_lpage_splits=1');
    expect([...h.sim.kvm.nxList].map((sp) => sp.id)).toEqual([oldest[2]]);
  });

  it('direct: one full flush per run; walk: a ranged flush per table plus the full flush', () => {
    const direct = new SimHarness().run(`${splits(3, 1)}\nrecover_nx strategy=direct`);
    expect(direct.counters()).toMatchObject({ tlb_flushes_full: 1, tlb_flushes_ranged: 0 });
    const walk = new SimHarness().run(`${splits(3, 1)}\nrecover_nx strategy=walk`);
    expect(walk.counters()).toMatchObject({ tlb_flushes_full: 1, tlb_flushes_ranged: 3 });
  });

  it('the next read after recovery builds the 2M leaf again (the selftest story)', () => {
    new SimHarness().run(
      `${splits(1)}\nrecover_nx\naccess gpa=0x100000000\nexpect pages_2m=1 pages_4k=0 nx_lpage_splits=0`,
    );
  });

  it('ratio 0 disables recovery', () => {
    new SimHarness().run(`${splits(2, 0)}\nrecover_nx\nexpect nx_lpage_splits=2`);
  });

  it('walk under an invalidated root burns the whole batch on the unreachable head; direct zaps it', () => {
    const setup = `${splits(2, 1)}\ninvalidate_roots\naccess gpa=0x300000000`;
    const walk = new SimHarness().run(setup);
    const r = walk.sim.recoverNx('walk');
    expect(r).toEqual({ toZap: 2, zapped: 0, iterations: 2 });
    walk.run('expect nx_lpage_splits=2');
    const direct = new SimHarness().run(setup);
    expect(direct.sim.recoverNx('direct')).toEqual({ toZap: 2, zapped: 2, iterations: 2 });
    direct.run('expect nx_lpage_splits=0');
  });
});
