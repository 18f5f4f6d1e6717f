import { describe, expect, it } from 'vitest';
import { SimHarness } from '../harness.ts';
import { decodeEvent } from '../events.ts';
import { parseScenario } from '../scenario/parse.ts';

const TWO = `vm kernel=5.18 vcpus=2
memslot gpa=0x100000000 size=2M backing=2M
access gpa=0x100000000 type=read vcpu=0
access gpa=0x100000000 type=read vcpu=1
invalidate_roots
access gpa=0x100000000 type=read vcpu=0`;

function refcounts(h: SimHarness): string[] {
  const out: string[] = [];
  for (const e of h.events()) {
    if (e.type === 'rootRefcount') out.push(`${e.sp}:${e.old}->${e.new}`);
    if (e.type === 'vcpuRoot') out.push(`vcpu${e.vcpu}=${e.new}`);
  }
  return out;
}

describe('several vCPUs, each with its own root reference (kvm_mmu_load())', () => {
  it('shares the valid root; after invalidation each vCPU moves on only when it next enters', () => {
    const h = new SimHarness().run(TWO);
    // vCPU 1 finds vCPU 0's root and takes a reference; invalidate takes one more; vCPU 0's
    // reload puts its old reference and creates root sp 3; vCPU 1 still holds root sp 0.
    expect(refcounts(h)).toEqual([
      '0:0->1',
      'vcpu0=0',
      '0:1->2',
      'vcpu1=0',
      '0:2->3',
      '0:3->2',
      '3:0->1',
      'vcpu0=3',
    ]);
    expect(h.sim.kvm.vcpuRoots.map((r) => r?.id)).toEqual([3, 0]);
    expect(h.mirror.vcpusOn(0)).toEqual([1]);
    expect(h.mirror.vcpusOn(3)).toEqual([0]);
    expect(h.mirror.vcpuRoot).toBe(3);
  });

  it('frees the old root only after the last vCPU has dropped it and the zap has put its own', () => {
    const h = new SimHarness().run(
      `${TWO}\naccess gpa=0x100000000 type=read vcpu=1\nzap_invalidated_roots\nexpect roots=1 invalid_roots=0`,
    );
    expect(refcounts(h).slice(8)).toEqual(['0:2->1', '3:1->2', 'vcpu1=3', '0:1->0']);
    expect(h.failures).toEqual([]);
    expect(h.mirror.vcpusOn(3)).toEqual([0, 1]);
    const freed = h.events().filter((e) => e.type === 'spFreed');
    expect(freed.map((e) => (e.type === 'spFreed' ? e.sp : -1))).toEqual([2, 1, 0]);
  });

  it('names the vCPU in the operation it runs', () => {
    const h = new SimHarness().run(TWO);
    const log = h.sim.kvm.log;
    const begins = [];
    for (let i = 0; i < log.length; i++) {
      const e = decodeEvent(log, i, h.mirror.spOf);
      if (e.type === 'opBegin' && e.op === 'access') begins.push((e.c >>> 8) & 0xff);
    }
    expect(begins).toEqual([0, 1, 0]);
  });

  it('refuses a vCPU the VM does not have, and vcpus= once the VM runs', () => {
    const bad = parseScenario('vm vcpus=2\nmemslot gpa=0 size=4K\naccess gpa=0 vcpu=2');
    expect(bad.errors.map((e) => `${e.line}:${e.col} ${e.message}`)).toEqual([
      '3:14 vcpu=2: the VM has 2 vCPUs (0 to 1); give vm vcpus=3 first',
    ]);
    const late = parseScenario('memslot gpa=0 size=4K\nvm vcpus=2');
    expect(late.errors[0]?.message).toMatch(/^vcpus cannot change after line 1 \(memslot\)/);
    expect(parseScenario('vm vcpus=9').errors[0]?.message).toBe('vcpus must be 1 to 8, not 9');
  });
});
