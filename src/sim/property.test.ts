import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mirrorState, modelState, SimHarness } from './harness.ts';
import { KERNELS } from './profile.ts';
import { Checkpoints } from './checkpoints.ts';
import { Mirror } from './replay.ts';
import { hugeLeafAt } from './ops/shatter.ts';
import type { Statement } from './scenario/ast.ts';
import { runStatement } from './scenario/run.ts';
import type { Simulator } from './simulator.ts';

// A small guest with every kind of backing: 2M- and 1G-backed slots, a 4K slot, and MMIO around.
const SETUP = `memslot gpa=0x100000000 size=6M backing=2M
memslot gpa=0x140000000 size=2G backing=1G
memslot gpa=0x200000000 size=4M backing=4K`;
const HOT_GFNS = [
  0x100000, 0x100001, 0x1001ff, 0x100200, 0x100400, 0x1005ff, 0x140000, 0x140200, 0x17fe00,
  0x180000, 0x1bffff, 0x200000, 0x200001, 0x2003ff, 0xfee00, 0x300000,
];

// Generated statements come from no script line.
const at = { line: fc.constant(0), col: fc.constant(0) };
const pos = { line: 0, col: 0 };
const gfnArb = fc.constantFrom(...HOT_GFNS);
// undefined: the profile's own strategy.
const strategyArb = fc.option(
  fc.constantFrom('walk' as const, 'direct' as const, 'atomic' as const),
  {
    nil: undefined,
  },
);
const optional = <T>(key: string, v: T | undefined) => (v === undefined ? {} : { [key]: v });
const opArb = (withRoots: boolean): fc.Arbitrary<Statement> =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        ...at,
        kind: fc.constantFrom('access' as const, 'fault' as const),
        gfn: gfnArb,
        type: fc.constantFrom('read' as const, 'write' as const, 'exec' as const),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        ...at,
        kind: fc.constant('shatter' as const),
        gfn: gfnArb,
        level: fc.constantFrom(2, 3),
      }),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({ gfn: gfnArb, level: fc.constantFrom(1, 2, 3), strategy: strategyArb })
        .map(({ gfn, level, strategy }) => ({
          ...pos,
          kind: 'zap_sp' as const,
          gfn,
          level,
          ...optional('strategy', strategy),
        })),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({
          start: gfnArb,
          len: fc.constantFrom(1, 0x200, 0x201, 0x40000),
          mode: fc.option(fc.constantFrom('leafs' as const, 'subtrees' as const), {
            nil: undefined,
          }),
        })
        .map(({ start, len, mode }) => ({
          ...pos,
          kind: 'zap_gfn_range' as const,
          start,
          end: start + len,
          ...optional('mode', mode),
        })),
    },
    {
      weight: 2,
      arbitrary: strategyArb.map((strategy) => ({
        ...pos,
        kind: 'recover_nx' as const,
        ...optional('strategy', strategy),
      })),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({
          nx: fc.option(fc.boolean(), { nil: undefined }),
          ratio: fc.option(fc.constantFrom(0, 1, 2, 60), { nil: undefined }),
        })
        .map(({ nx, ratio }) => ({
          ...pos,
          kind: 'vm' as const,
          ...(nx !== undefined && { nxHugePages: nx }),
          ...(ratio !== undefined && { recoveryRatio: ratio }),
        })),
    },
    ...(withRoots
      ? [
          {
            weight: 1,
            arbitrary: fc.record({
              ...at,
              kind: fc.constantFrom('invalidate_roots' as const, 'zap_invalidated_roots' as const),
            }),
          },
        ]
      : []),
  );

/** Run a statement if its preconditions hold (the model refuses the rest, tested elsewhere). */
function apply(sim: Simulator, st: Statement): void {
  if (st.kind === 'shatter' && !hugeLeafAt(sim.kvm, st.gfn, st.level)) return;
  if (st.kind === 'zap_sp' && !sim.kvm.roots.some((r) => sim.kvm.tableAt(r, st.gfn, st.level))) {
    return;
  }
  runStatement(sim, st, []);
}

const RUNS = { numRuns: 60, seed: 0x7d9 };

describe.each(KERNELS)('random operation sequences under kernel %s (fast-check)', (kernel) => {
  const setup = `vm kernel=${kernel}\n${SETUP}`;

  it('keep every invariant after every step, and the event log rebuilds the model exactly', () => {
    fc.assert(
      fc.property(fc.array(opArb(true), { minLength: 1, maxLength: 40 }), (ops) => {
        const h = new SimHarness().run(setup);
        for (const o of ops) h.do((sim) => apply(sim, o));
      }),
      RUNS,
    );
  });

  it('step back through the whole log to the empty VM and forward again to the same state', () => {
    fc.assert(
      fc.property(fc.array(opArb(true), { minLength: 1, maxLength: 25 }), (ops) => {
        const h = new SimHarness().run(setup);
        for (const o of ops) h.do((sim) => apply(sim, o));
        const log = h.sim.kvm.log;
        const m = h.mirror;
        m.seek(log, 0);
        const empty = new Mirror();
        expect(m.stats()).toEqual(empty.stats());
        expect(m.counters).toEqual(empty.counters);
        expect(m.sps.length).toBe(0);
        expect(m.memslots.length).toBe(0);
        h.verify('after stepping back to 0 and forward again');
      }),
      { ...RUNS, numRuns: 30 },
    );
  });

  it('stepping back stops at every statement boundary in exactly the state the model had there', () => {
    fc.assert(
      fc.property(fc.array(opArb(true), { minLength: 1, maxLength: 20 }), (ops) => {
        const h = new SimHarness().run(setup);
        const marks = [{ at: h.mark, state: modelState(h.sim) }];
        for (const o of ops) {
          h.do((sim) => apply(sim, o));
          marks.push({ at: h.mark, state: modelState(h.sim) });
        }
        const log = h.sim.kvm.log;
        const m = new Mirror();
        m.seek(log, log.length);
        for (const { at, state } of marks.reverse()) {
          m.seek(log, at);
          expect(mirrorState(m)).toBe(state);
        }
      }),
      { ...RUNS, numRuns: 30 },
    );
  });

  it('stepping back to any event gives exactly the state stepping forward to it gave', () => {
    const snapshot = (m: Mirror) =>
      JSON.stringify({
        stats: m.stats(),
        counters: m.counters,
        iter: m.iter,
        vcpuRoots: Array.from({ length: 8 }, (_, v) => m.vcpuRoots[v] ?? null),
        config: m.config,
        memslots: m.memslots,
        // nxSeq orders the NX list; off the list it means nothing.
        sps: m.sps.map((sp) => ({
          ...sp,
          nxSeq: sp.nxDisallowed ? sp.nxSeq : null,
          spt: Array.from(sp.spt).join(),
        })),
      });
    fc.assert(
      fc.property(
        fc.array(opArb(true), { minLength: 1, maxLength: 20 }),
        // Per-mille positions in the log: fc.double would crowd them at 0 and 1.
        fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 4, maxLength: 8 }),
        (ops, points) => {
          const h = new SimHarness().run(setup);
          for (const o of ops) h.do((sim) => apply(sim, o));
          const log = h.sim.kvm.log;
          // Visit the points from the end backwards, then compare with a fresh forward seek.
          const targets = points
            .map((p) => Math.floor((p / 1000) * log.length))
            .sort((a, b) => b - a);
          for (const t of targets) {
            h.mirror.seek(log, t);
            const fresh = new Mirror();
            fresh.seek(log, t);
            expect(snapshot(h.mirror)).toBe(snapshot(fresh));
          }
        },
      ),
      { ...RUNS, numRuns: 30 },
    );
  });

  it('walk, direct and atomic zap_sp leave identical live tables and stats when the root is valid and the only root', () => {
    fc.assert(
      fc.property(
        fc.array(opArb(false), { minLength: 1, maxLength: 30 }),
        gfnArb,
        fc.constantFrom(1, 2, 3),
        (ops, gfn, level) => {
          const walk = new SimHarness().run(setup);
          const direct = new SimHarness().run(setup);
          const atomic = new SimHarness().run(setup);
          for (const o of ops) {
            walk.do((sim) => apply(sim, o));
            direct.do((sim) => apply(sim, o));
            atomic.do((sim) => apply(sim, o));
          }
          const kvm = walk.sim.kvm;
          const root = kvm.roots[0];
          fc.pre(
            kvm.roots.length === 1 && !!root && !root.invalid && !!kvm.tableAt(root, gfn, level),
          );
          walk.do((sim) => sim.zapSp(gfn, level, 'walk'));
          direct.do((sim) => sim.zapSp(gfn, level, 'direct'));
          atomic.do((sim) => sim.zapSp(gfn, level, 'atomic'));
          // A dead table's leftovers differ (shared mode freezes all 512 entries): live ones only.
          const tables = (h: SimHarness) =>
            h.sim.kvm.sps.map(
              (s) => `${s.id}:${s.linked}:${s.freed}:${s.linked ? Array.from(s.spt).join() : ''}`,
            );
          expect(tables(walk)).toEqual(tables(direct));
          expect(tables(atomic)).toEqual(tables(direct));
          expect(walk.stats()).toEqual(direct.stats());
          expect(atomic.stats()).toEqual(direct.stats());
          expect(walk.counters().spte_reads).toBeGreaterThan(direct.counters().spte_reads);
        },
      ),
      { ...RUNS, numRuns: 80 },
    );
  });
});

describe('checkpoints', () => {
  it('a seek from the nearest checkpoint gives exactly the state a seek from the start gives', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...KERNELS),
        fc.array(opArb(true), { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 3, maxLength: 8 }),
        (kernel, ops, every, points) => {
          const h = new SimHarness().run(`vm kernel=${kernel}\n${SETUP}`);
          for (const o of ops) h.do((sim) => apply(sim, o));
          const log = h.sim.kvm.log;
          const cps = new Checkpoints(every);
          // In slices, as the page builds them: stop every time it may.
          while (!cps.advance(log, () => true));
          expect(cps.count).toBe(Math.floor(log.length / every) + 1);
          const live = new Mirror();
          for (const p of points) {
            const t = Math.floor((p / 1000) * log.length);
            const cp = cps.nearest(t);
            // Half a stride away, or less than one past the last checkpoint.
            const past = t > (cps.count - 1) * every;
            expect(Math.abs(cp.cursor - t)).toBeLessThanOrEqual(
              past ? every : Math.ceil(every / 2),
            );
            live.restore(cp);
            live.seek(log, t);
            const fresh = new Mirror();
            fresh.seek(log, t);
            expect(mirrorState(live)).toBe(mirrorState(fresh));
            expect(live.iter).toEqual(fresh.iter);
          }
          // Restoring never changed a checkpoint: the last one still equals a fresh seek there.
          const last = cps.nearest(log.length);
          live.restore(last);
          const fresh = new Mirror();
          fresh.seek(log, last.cursor);
          expect(mirrorState(live)).toBe(mirrorState(fresh));
        },
      ),
      { ...RUNS, numRuns: 40 },
    );
  });
});
