import { describe, expect, it } from 'vitest';
import { parseScenario } from './scenario/parse.ts';
import { runStatements } from './scenario/run.ts';
import { Simulator } from './simulator.ts';

const run = (text: string) => {
  const { statements, errors } = parseScenario(text);
  expect(errors).toEqual([]);
  return runStatements(statements, new Simulator());
};

describe('host memory behind the memslots', () => {
  it('refuses a memslot whose host frames would not fit the 40-bit PFN field of an SPTE', () => {
    // 5-level, 52-bit guest: two 2 PiB slots need 2^40 host pages after the first 2^26.
    const r = run(
      'vm levels=5\nmemslot gpa=0 size=0x8000000000000 backing=1G\nmemslot gpa=0x8000000000000 size=0x8000000000000 backing=1G',
    );
    expect(r.error).toMatchObject({ line: 3, col: 1 });
    expect(r.error?.message).toBe(
      'memslot 0x8000000000+0x8000000000 pages: the host memory behind all memslots would pass 2^52 bytes, and an SPTE holds a host PFN of at most 40 bits',
    );
  });

  it('maps a 1G leaf of the last slot that fits at the PFN gfn_to_pfn gives, not a wrapped one', () => {
    const r = run(
      'vm levels=5\nmemslot gpa=0 size=0x8000000000000 backing=1G\nmemslot gpa=0x8000000000000 size=0x7f80000000000 backing=1G\naccess gpa=0xff00000000000 type=read',
    );
    expect(r.error).toBeNull();
    const kvm = r.sim.kvm;
    const slot = kvm.slotFor(0xff00000000000 / 4096);
    expect(slot?.id).toBe(1);
    const spte = r.sim.spteAt(0xff00000000000 / 4096, 3);
    const pfn = spte === null ? -1 : Number((spte >> 12n) & ((1n << 40n) - 1n));
    expect(pfn).toBe(kvm.gfnToPfn(slot!, 0xff00000000000 / 4096));
    expect(pfn).toBeGreaterThan(2 ** 39);
  });
});
