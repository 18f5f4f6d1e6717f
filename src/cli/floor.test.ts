import { describe, expect, it } from 'vitest';
import { Simulator } from '../sim/simulator.ts';
import { floorFaultIn, floorSptesOf } from './floor.ts';

describe('the benchmark floor', () => {
  it('builds the very tables the core builds for the same write faults', () => {
    // Unaligned start, across two L1 tables and into a third: the walk allocates on the way.
    const first = 0x40000 + 510;
    const n = 2 * 512 + 3;
    const sim = new Simulator({ nxHugePages: true });
    sim.memslot(0x40000, 4096, 1);
    for (let i = 0; i < n; i++) sim.fault(first + i, 'write');
    const floor = floorFaultIn(first, n, 4, floorSptesOf(sim.kvm, first));
    expect(floor.tables.length).toBe(sim.kvm.sps.length);
    floor.tables.forEach((t, id) => expect([...t], `table ${id}`).toEqual([...sim.kvm.sp(id).spt]));
    // One event per SPTE write: the n leaves and the links of every table but the root.
    expect(floor.events).toBe(n + floor.tables.length - 1);
    expect(sim.counters().spte_writes).toBe(floor.events);
  });
});
