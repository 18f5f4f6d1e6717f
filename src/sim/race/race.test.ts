import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SimEvent } from '../events.ts';
import { SimHarness } from '../harness.ts';
import { Mirror } from '../replay.ts';
import { parseScenario } from '../scenario/parse.ts';
import { runStatements } from '../scenario/run.ts';
import { exploreRace, finalState, replaySchedule } from './explore.ts';
import { chooserFor, formatPicks, readSchedule, trimPicks } from './schedule.ts';

const HEAD_618 = `vm kernel=6.18 vcpus=2 recovery_ratio=1
memslot gpa=0x100000000 size=2M backing=2M
access vcpu=0 gpa=0x100000000 type=exec`;

/** vCPU 1 reads the next 4K page of the NX-split 2M frame while recovery takes its table. */
const recoveryRace = (recover: string, schedule = '') => `${HEAD_618}
race${schedule ? ` schedule=${schedule}` : ''}
  vcpu1: access gpa=0x100001000 type=read
  recovery: ${recover}
end`;

const harness = (text: string) => new SimHarness().run(text);

/** The race's events, each with the actor (index in the block) whose it is. */
function byActor(ev: SimEvent[]): { actor: number; e: SimEvent }[] {
  let actor = -1;
  return ev.map((e) => {
    if (e.type === 'actor') actor = e.actor;
    return { actor, e };
  });
}

/** The first of seeds 1..400 whose run `found` accepts, as its harness. */
function firstSeed(text: (seed: number) => string, found: (h: SimHarness) => boolean): SimHarness {
  for (let seed = 1; seed <= 400; seed++) {
    const h = harness(text(seed));
    if (found(h)) return h;
  }
  throw new Error('no seed in 1..400 gave that interleaving');
}
const ofType = <T extends SimEvent['type']>(ev: SimEvent[], t: T) =>
  ev.filter((e): e is Extract<SimEvent, { type: T }> => e.type === t);

function explore(text: string, merge = true) {
  const { statements, errors } = parseScenario(text);
  expect(errors).toEqual([]);
  return exploreRace(
    statements,
    statements.findIndex((s) => s.kind === 'race'),
    { merge },
  );
}

describe('schedules', () => {
  it('round-robin cycles through the runnable actors, a list then the lowest runnable', () => {
    const rr = chooserFor({ kind: 'round-robin' });
    const race = null as never;
    expect([0, 1, 2, 3].map((p) => rr([0, 1, 2], p, race))).toEqual([0, 1, 2, 0]);
    expect(rr([0, 2], 4, race)).toBe(2);
    const list = chooserFor({ kind: 'list', picks: [1, 1, 0] });
    expect([0, 1, 2, 3, 4].map((p) => list([0, 1], p, race))).toEqual([1, 1, 0, 0, 0]);
    expect(list([1], 3, race)).toBe(1);
  });

  it('a seeded random schedule is the same every time, and seeds differ', () => {
    const picks = (seed: number) => {
      const c = chooserFor({ kind: 'random', seed });
      return Array.from({ length: 32 }, (_, p) => c([0, 1, 2], p, null as never));
    };
    expect(picks(7)).toEqual(picks(7));
    expect(picks(7)).not.toEqual(picks(8));
    expect(new Set(picks(7))).toEqual(new Set([0, 1, 2]));
  });

  it('writes runs as I*N, reads them back, and trims what an exhausted list does anyway', () => {
    expect(formatPicks([0, 0, 0, 1, 1, 0])).toBe('0*3,1,1,0');
    expect(readSchedule('0*3,1,1,0', 2)).toEqual({ kind: 'list', picks: [0, 0, 0, 1, 1, 0] });
    expect(readSchedule('0,2', 2)).toMatch(/actor 2 does not exist/);
    expect(readSchedule('0,x', 2)).toMatch(/'x' is not an actor index/);
    expect(trimPicks([1, 0, 0, 1, 0], [0, 0, 0, 1, 0])).toEqual([1]);
  });
});

describe('a race run', () => {
  it('mmu_lock for write excludes the vCPU: 5.18 recovery runs whole, before or after the fault', () => {
    const text = `vm kernel=5.18 vcpus=2 recovery_ratio=1
memslot gpa=0x100000000 size=2M backing=2M
access vcpu=0 gpa=0x100000000 type=exec
race schedule=1,1
  vcpu1: fault gpa=0x100001000 type=read
  recovery: recover_nx
end`;
    const h = harness(text);
    const ev = h.events(0);
    const locks = ofType(ev, 'mmuLock').filter((e) => e.mode !== 'none' || e.was !== 'none');
    // recovery (write) is granted first; the vCPU's read lock only after recovery dropped it.
    const order = locks.map((e) => `${e.was}->${e.mode}`);
    expect(order.slice(-4)).toEqual(['none->write', 'write->none', 'none->read', 'read->none']);
    // The table is gone before the fault walks: a read fault maps the whole 2M frame.
    expect(h.stats()).toMatchObject({ pages_2m: 1, pages_4k: 0, nx_lpage_splits: 0 });
  });

  it('a lost cmpxchg: two vCPUs in lockstep fault the same page; the second retries', () => {
    const text = `vm kernel=6.18 vcpus=2
memslot gpa=0x100000000 size=2M backing=4K
access vcpu=0 gpa=0x100002000 type=write
access vcpu=1 gpa=0x100002000 type=write
race schedule=round-robin
  vcpu0: fault gpa=0x100000000 type=write
  vcpu1: fault gpa=0x100000000 type=write
end`;
    const h = harness(text);
    const m = h.events(0);
    const race = m.slice(m.findIndex((e) => e.type === 'opBegin' && e.op === 'race'));
    const failed = ofType(race, 'cmpxchgFailed');
    expect(failed).toHaveLength(1);
    const won = ofType(race, 'spteChanged').find((e) => e.level === 1);
    // vCPU 1 expected the non-present value both read and found vCPU 0's leaf.
    expect(failed[0]).toMatchObject({ level: 1, gfn: 0x100000, expected: 1n << 63n });
    expect(failed[0]?.current).toBe(won?.new);
    const done = ofType(race, 'faultDone').map((e) => e.ret);
    expect(done).toEqual(['RET_PF_FIXED', 'RET_PF_RETRY', 'RET_PF_SPURIOUS']);
    expect(h.sim.counters()).toMatchObject({ cmpxchg_failed: 1, pf_retry: 1, frozen_seen: 0 });
    expect(h.stats().pages_4k).toBe(2);
  });

  it.each([
    // Both find the L3 entry empty and link a table there: the loser frees its own, unlinked.
    ['6.18', '4K', 'write', 'tdp_mmu_link_sp()', 3],
    // 6.18 splits a 2M leaf in place: the loser's populated table is freed unused.
    ['6.18', '2M', 'exec', 'tdp_mmu_split_huge_page()', 2],
    // 5.18 freezes the 2M leaf to replace it: the loser's freeze fails.
    ['5.18', '2M', 'exec', 'tdp_mmu_zap_spte_atomic()', 2],
  ] as const)(
    '%s, %s backing, two %s faults in lockstep: %s loses once, retries, and ends as one fault would',
    (kernel, backing, type, _what, level) => {
      const head = `vm kernel=${kernel} vcpus=2
memslot gpa=0x100000000 size=2M backing=${backing}
${backing === '2M' ? 'access vcpu=0 gpa=0x100000000 type=read\naccess vcpu=1 gpa=0x100000000 type=read' : 'access vcpu=0 gpa=0x80000000 type=read\naccess vcpu=1 gpa=0x80000000 type=read'}`;
      const text = `${head}
race schedule=round-robin
  vcpu0: fault gpa=0x100000000 type=${type}
  vcpu1: fault gpa=0x100000000 type=${type}
end`;
      const h = harness(text);
      const ev = h.events(0);
      const race = ev.slice(ev.findIndex((e) => e.type === 'opBegin' && e.op === 'race'));
      const failed = ofType(race, 'cmpxchgFailed');
      expect(failed.map((e) => e.level)).toEqual([level]);
      const done = ofType(race, 'faultDone').map((e) => e.ret);
      expect(done).toContain('RET_PF_RETRY');
      expect(done.filter((r) => r === 'RET_PF_RETRY')).toHaveLength(1);
      expect(h.sim.counters()).toMatchObject({ cmpxchg_failed: 1, pf_retry: 1 });
      // The same end as one fault alone.
      const alone = harness(`${head}\nfault vcpu=0 gpa=0x100000000 type=${type}`);
      expect(h.stats()).toEqual(alone.stats());
      expect(h.sim.value('tables')).toBe(alone.sim.value('tables'));
      // A table allocated for the lost install never got linked and was freed at once.
      const lost = ofType(race, 'spAllocated').filter(
        (a) => !race.some((e) => e.type === 'spLinked' && e.sp === a.sp),
      );
      if (kernel === '5.18') expect(lost).toEqual([]);
      else {
        expect(lost).toHaveLength(1);
        expect(race.some((e) => e.type === 'spFreed' && e.sp === lost[0]?.sp)).toBe(true);
      }
    },
  );

  it('a frozen SPTE: 5.18 replaces a 2M leaf through FROZEN; a fault that meets it retries', () => {
    const head = `vm kernel=5.18 vcpus=2
memslot gpa=0x100000000 size=2M backing=2M
access vcpu=0 gpa=0x100000000 type=read
race schedule=random seed=SEED
  vcpu0: fault gpa=0x100000000 type=exec
  vcpu1: fault gpa=0x100001000 type=write
end`;
    // The first seed whose interleaving has vCPU 1 read the PDE while it is frozen.
    for (let seed = 1; seed <= 400; seed++) {
      const h = harness(head.replace('SEED', String(seed)));
      if (h.sim.counters().frozen_seen === 0) continue;
      const ev = h.events(0);
      const frozen = ofType(ev, 'iterStep').find((e) => e.spte === 0x5a0n && e.level === 2);
      expect(frozen?.gfn).toBe(0x100000);
      const retry = ofType(ev, 'faultDone').find((e) => e.ret === 'RET_PF_RETRY');
      expect(retry?.gfn).toBe(0x100001);
      expect(h.sim.counters()).toMatchObject({ pf_retry: 1, frozen_seen: 1 });
      // In the end both faults are mapped at 4K in the new table.
      expect(h.stats()).toMatchObject({ pages_2m: 0, pages_4k: 2, nx_lpage_splits: 1 });
      return;
    }
    throw new Error('no seed in 1..400 made vCPU 1 meet the frozen PDE');
  });

  it('the pointer check: recovery unaccounts, a vCPU puts a 2M leaf in place, recovery skips it', () => {
    const skipped = (h: SimHarness) =>
      ofType(h.events(0), 'nxRecoverPick').some((e) => !e.returned);
    const h = firstSeed((s) => recoveryRace('recover_nx', `random seed=${s}`), skipped);
    const ev = byActor(h.events(0));
    // The vCPU (actor 0) replaced the table with the 2M leaf; recovery (actor 1) wrote nothing
    // there and raised no WARN.
    const pde = ev.filter(({ e }) => e.type === 'spteChanged' && e.sp === 2 && e.index === 0);
    expect(pde.map((x) => x.actor)).toEqual([-1, 0]);
    expect(ev.some(({ e }) => e.type === 'warn')).toBe(false);
    expect(ofType(h.events(0), 'cmpxchgFailed')).toEqual([]);
    expect(h.stats()).toMatchObject({ pages_2m: 1, pages_4k: 0, nx_lpage_splits: 0 });
  });

  it('the atomic zap loses to the vCPU: its cmpxchg fails on the PDE and nothing is zapped twice', () => {
    const lost = (h: SimHarness) =>
      byActor(h.events(0)).some(({ actor, e }) => actor === 1 && e.type === 'cmpxchgFailed');
    const h = firstSeed((s) => recoveryRace('recover_nx', `random seed=${s}`), lost);
    const failed = byActor(h.events(0)).find((x) => x.actor === 1 && x.e.type === 'cmpxchgFailed');
    expect(failed?.e).toMatchObject({ level: 2, gfn: 0x100000, sp: 2, index: 0 });
    if (failed?.e.type !== 'cmpxchgFailed') return;
    // Expected: the pointer to sp 3 it read; found: the vCPU's 2M leaf (bit 7, PS).
    expect(failed.e.expected & 0xfffffffff000n).toBe(BigInt(h.sim.kvm.sp(3).pfn) << 12n);
    expect(failed.e.current & 0x80n).toBe(0x80n);
    expect(ofType(h.events(0), 'warn')).toEqual([]);
    expect(ofType(h.events(0), 'nxRecoverPick')).toEqual([
      expect.objectContaining({ sp: 3, returned: false }),
    ]);
    expect(h.stats()).toMatchObject({ pages_2m: 1, nx_lpage_splits: 0 });
  });
});

describe('the explorer', () => {
  it('6.18 as merged: two final states, both derived by hand, and no violation', () => {
    const r = explore(recoveryRace('recover_nx'));
    expect(r.complete).toBe(true);
    expect(r.violations).toEqual([]);
    // The vCPU maps 4K in the table and recovery zaps it all; or recovery unaccounts first, the
    // vCPU maps the whole frame at 2M, and the pointer check leaves that alone.
    expect(r.finals.map((f) => f.summary).sort()).toEqual([
      'pages_4k=0 pages_2m=0 pages_1g=0 nx_lpage_splits=0 tables=2',
      'pages_4k=0 pages_2m=1 pages_1g=0 nx_lpage_splits=0 tables=2',
    ]);
  });

  it('without the pointer check, recovery zaps the mapping a vCPU just made', () => {
    const r = explore(recoveryRace('recover_nx strategy=atomic check=off'));
    expect(r.violations.map((v) => v.message)).toEqual([
      expect.stringMatching(/^recovery zapped the 2M leaf for gfn 0x100000 \(sp 2\[0\]\)/),
    ]);
  });

  it("5.18's plain store under the read lock breaks the stats", () => {
    const r = explore(recoveryRace('recover_nx strategy=direct lock=read'));
    const messages = r.violations.map((v) => v.message);
    expect(messages).toContain('pages_2m is 1 but 0 leaves are present');
    // Each violation's schedule reproduces it, at the same point.
    const { statements } = parseScenario(recoveryRace('recover_nx strategy=direct lock=read'));
    for (const v of r.violations) {
      const again = replaySchedule(statements, 3, { kind: 'list', picks: v.picks });
      expect(again.violations).toContainEqual({ point: v.point, message: v.message });
    }
  });

  it('every printed schedule reproduces its final state exactly', () => {
    for (const recover of ['recover_nx', 'recover_nx strategy=atomic check=off']) {
      const r = explore(recoveryRace(recover));
      for (const f of r.finals) {
        const text = recoveryRace(recover, formatPicks(f.picks) || '0');
        const { statements } = parseScenario(text);
        const run = runStatements(statements);
        expect(run.error).toBeNull();
        expect(finalState(run.sim.kvm).summary).toBe(f.summary);
      }
    }
  });

  it.each(['read', 'exec'])(
    'merging equal states loses nothing (%s access): the finals and the count of running every schedule',
    (type) => {
      const text = `${HEAD_618}
race
  vcpu1: access gpa=0x100000000 type=${type}
  recovery: recover_nx
end`;
      const merged = explore(text);
      const every = explore(text, false);
      expect(every.complete).toBe(true);
      expect(merged.schedules).toBe(every.schedules);
      expect(BigInt(every.runs)).toBe(every.schedules);
      expect(merged.finals.map((f) => f.summary).sort()).toEqual(
        every.finals.map((f) => f.summary).sort(),
      );
      expect(merged.runs).toBeLessThan(every.runs / 2);
    },
  );
});

describe('random races', () => {
  const snapshot = (m: Mirror) =>
    JSON.stringify({
      stats: m.stats(),
      counters: m.counters,
      lock: m.lock,
      actor: m.actor,
      actorLocks: Array.from({ length: 4 }, (_, a) => m.actorLocks[a] ?? 'none'),
      actorStates: Array.from({ length: 4 }, (_, a) => m.actorStates[a] ?? 'idle'),
      actorCells: Array.from({ length: 4 }, (_, a) => m.actorCells[a] ?? null),
      vcpuRoots: Array.from({ length: 4 }, (_, v) => m.vcpuRoots[v] ?? null),
      sps: m.sps.map((sp) => ({
        ...sp,
        nxSeq: sp.nxDisallowed ? sp.nxSeq : null,
        spt: Array.from(sp.spt).join(),
      })),
    });
  const line = fc.record({
    kind: fc.constantFrom('access', 'fault'),
    page: fc.constantFrom(0, 1, 0x1ff, 0x200, 0x201),
    type: fc.constantFrom('read', 'write', 'exec'),
  });

  it('keep every invariant after every scheduling point, and step back through the race exactly', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('5.18', '6.18'),
        fc.array(line, { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 1, max: 0x7fffffff }),
        (kernel, vcpus, recovery, zapper, seed) => {
          const actors = vcpus.map(
            (v, i) =>
              `  vcpu${i + 1}: ${v.kind} gfn=0x${(0x100000 + v.page).toString(16)} type=${v.type}`,
          );
          if (recovery) actors.push('  recovery: recover_nx');
          if (zapper) actors.push('  zapper: zap_invalidated_roots');
          const text = `vm kernel=${kernel} vcpus=${vcpus.length + 1} recovery_ratio=1
memslot gpa=0x100000000 size=4M backing=2M
access vcpu=0 gpa=0x100000000 type=exec
access vcpu=0 gpa=0x100200000 type=exec
${zapper ? 'invalidate_roots' : '# no invalidation'}
race schedule=random seed=${seed}
${actors.join('\n')}
end`;
          const { statements, errors } = parseScenario(text);
          expect(errors).toEqual([]);
          const r = replaySchedule(
            statements,
            statements.findIndex((s) => s.kind === 'race'),
            { kind: 'random', seed },
          );
          expect(r.violations).toEqual([]);
          // The harness checks the invariants and mirror == model after the race.
          const h = new SimHarness().run(text);
          const log = h.sim.kvm.log;
          const start = h.events(0).findIndex((e) => e.type === 'opBegin' && e.op === 'race');
          // Stepped back to, each point of the race equals the same point stepped forward to.
          const n = log.length - start;
          const points = [
            ...new Set(Array.from({ length: 9 }, (_, k) => start + Math.round((k * n) / 8))),
          ];
          const forward = new Map<number, string>();
          const fresh = new Mirror();
          for (const i of points) {
            fresh.seek(log, i);
            forward.set(i, snapshot(fresh));
          }
          for (const i of points.reverse()) {
            h.mirror.seek(log, i);
            expect(snapshot(h.mirror)).toBe(forward.get(i));
          }
        },
      ),
      { numRuns: 20 },
    );
  }, 120_000);
});

describe('the zapper', () => {
  const text = (kernel: string) => `vm kernel=${kernel} vcpus=2
memslot gpa=0x100000000 size=2M backing=4K
access vcpu=0 gpa=0x100000000 type=write
access vcpu=1 gpa=0x100001000 type=write
invalidate_roots
race
  zapper: zap_invalidated_roots
  vcpu1: access gpa=0x100001000 type=read
end`;

  it.each(['5.18', '6.18'])(
    '%s: the old root is zapped and freed while vCPU 1 moves to a new root, in every schedule',
    (kernel) => {
      const r = explore(text(kernel));
      expect(r.complete).toBe(true);
      expect(r.violations).toEqual([]);
      // Whoever goes first, the old root's tree is gone and vCPU 1 maps its page on the new one.
      expect(r.finals.map((f) => f.summary)).toEqual([
        'pages_4k=1 pages_2m=0 pages_1g=0 nx_lpage_splits=0 tables=3',
      ]);
      const h = harness(text(kernel));
      // vCPU 0 never ran again: it still holds the old, invalid root; vCPU 1 is on a new one.
      expect(h.sim.value('invalid_roots')).toBe(1);
      expect(h.sim.value('roots')).toBe(2);
    },
  );

  it('is refused on 5.16, whose zap of invalidated roots a race does not interleave', () => {
    const { errors } = parseScenario(text('5.16'));
    expect(errors[0]?.message).toMatch(/^zapper: 5\.16 zaps invalidated roots with zap_gfn_range/);
  });
});
