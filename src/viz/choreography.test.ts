import { describe, expect, it } from 'vitest';
import { SimHarness } from '../sim/harness.ts';
import { choreograph } from './choreography.ts';

/** The events of the last statement of `script`, decoded. */
function lastStatement(script: string, last: string) {
  const h = new SimHarness().run(script);
  const from = h.mark;
  h.run(last);
  return { h, events: h.events(from) };
}

const ctx = (direction: 1 | -1, animate = true) => ({
  direction,
  animate,
  colorOf: (spte: bigint) => (spte === 0n ? 'none' : `c${spte.toString(16)}`),
  hasParent: (sp: number) => sp !== 0,
});

describe('the choreography of an event batch', () => {
  it('an exec fault on a 2M leaf: the leaf flashes, the new L1 table grows out of it', () => {
    const { events } = lastStatement(
      'memslot gpa=0x100000000 size=2M backing=2M\naccess gpa=0x100000000 type=read',
      'access gpa=0x100000000 type=exec',
    );
    const plan = choreograph(events, ctx(1));
    // sp 2[0]: 2M leaf → REMOVED → 0 → the L1 pointer (one flash per entry, from its first
    // colour); sp 3[0]: the executable 4K leaf.
    expect(plan.entries).toEqual([
      { sp: 2, index: 0 },
      { sp: 2, index: 0 },
      { sp: 2, index: 0 },
      { sp: 3, index: 0 },
    ]);
    const flashes = plan.anims.filter((a) => a.kind === 'flash');
    expect(flashes.map((a) => a.kind === 'flash' && [a.sp, a.index, a.from])).toEqual([
      [2, 0, 'c600004000000bf3'],
      [3, 0, 'none'],
    ]);
    expect(plan.anims.filter((a) => a.kind === 'grow')).toEqual([
      { kind: 'grow', sp: 3, dur: 380 },
    ]);
    expect([...plan.reload]).toEqual([3]);
    // Linked, then NX-accounted.
    expect([...plan.flagged]).toEqual([3]);
    // The ranged flush of the frozen leaf's 2M range.
    expect(plan.flushes).toEqual([{ ranged: true, gfn: 0x100000, pages: 512 }]);
    expect(plan.iterMoves).toBeGreaterThan(0);
  });

  it('stepping the same batch back: flashes from the later value, no growth, no trail', () => {
    const { events } = lastStatement(
      'memslot gpa=0x100000000 size=2M backing=2M\naccess gpa=0x100000000 type=read',
      'access gpa=0x100000000 type=exec',
    );
    const plan = choreograph([...events].reverse(), ctx(-1));
    expect(plan.anims.some((a) => a.kind === 'grow' || a.kind === 'trail')).toBe(false);
    // Backwards, the 4K leaf's write comes first.
    const first = plan.anims.find((a) => a.kind === 'flash');
    expect(first && first.kind === 'flash' && first.sp).toBe(3);
    expect(plan.anims.filter((a) => a.kind === 'pulse').length).toBe(1);
  });

  it('without motion nothing is animated, and the tables still get their work', () => {
    const { events } = lastStatement(
      'memslot gpa=0x100000000 size=2M backing=2M\naccess gpa=0x100000000 type=exec',
      'recover_nx',
    );
    const plan = choreograph(events, ctx(1, false));
    expect(plan.anims).toEqual([]);
    expect(plan.flushes).toEqual([]);
    // The L1 table under the recovered pointer is unlinked, unaccounted and freed.
    expect([...plan.flagged]).toContain(3);
  });
});
