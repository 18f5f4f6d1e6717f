import { describe, expect, it } from 'vitest';
import { decodeEvent } from './events.ts';
import { SimHarness } from './harness.ts';
import { explainEvent } from './explain.ts';
import { entryChanges, filterLog, neighbourChange, parseLogQuery, stateDiff } from './queries.ts';
import { toBig } from './spte.ts';

const SCRIPT = `vm recovery_ratio=1
memslot gpa=0x100000000 size=6M backing=2M
access gpa=0x100000000 type=read
access gpa=0x100000000 type=exec
recover_nx
access gpa=0x100000000 type=read`;

const hex = (lo: number, hi: number) => toBig(lo, hi).toString(16);

describe('the history of one entry', () => {
  it('lists every change of sp 2[0] with the operation that made it, oldest first', () => {
    const h = new SimHarness().run(SCRIPT);
    const log = h.sim.kvm.log;
    const changes = entryChanges(log, 2, 0);
    // By hand: the read maps the 2M leaf; the exec freezes it, writes 0, links sp 3; recovery
    // zaps that link; the last read maps the 2M leaf again.
    expect(changes.map((c) => `${hex(c.oldLo, c.oldHi)} -> ${hex(c.newLo, c.newHi)}`)).toEqual([
      '0 -> 600004000000bf3',
      '600004000000bf3 -> 5a0',
      '5a0 -> 0',
      '0 -> 10003907',
      '10003907 -> 0',
      '0 -> 600004000000bf3',
    ]);
    const ops = changes.map((c) => {
      const e = decodeEvent(log, c.op, h.mirror.spOf);
      return e.type === 'opBegin' ? `${e.op}@${e.line}` : '?';
    });
    expect(ops).toEqual([
      'access@3',
      'access@4',
      'access@4',
      'access@4',
      'recover_nx@5',
      'access@6',
    ]);
  });

  it('jumps to the previous and the next change from any cursor', () => {
    const h = new SimHarness().run(SCRIPT);
    const changes = entryChanges(h.sim.kvm.log, 2, 0);
    const at = changes.map((c) => c.event + 1);
    // Just after the third change: previous is the second, next is the fourth.
    expect(neighbourChange(changes, at[2]!, -1)).toBe(at[1]);
    expect(neighbourChange(changes, at[2]!, 1)).toBe(at[3]);
    expect(neighbourChange(changes, at[0]!, -1)).toBeNull();
    expect(neighbourChange(changes, at[5]!, 1)).toBeNull();
    expect(neighbourChange(changes, 0, 1)).toBe(at[0]);
    // At the end of the run the last change is the one shown: previous is the fifth.
    expect(neighbourChange(changes, h.sim.kvm.log.length, -1)).toBe(at[4]);
    // Between the fourth and the fifth change, the fourth is shown: previous is the third.
    expect(neighbourChange(changes, at[3]! + 2, -1)).toBe(at[2]);
  });

  it('keeps the newest changes when there are more than the limit', () => {
    const h = new SimHarness().run(SCRIPT);
    const all = entryChanges(h.sim.kvm.log, 2, 0);
    expect(entryChanges(h.sim.kvm.log, 2, 0, undefined, 2)).toEqual(all.slice(-2));
  });
});

describe('the difference between two cursor positions', () => {
  it('lists exactly the SPTEs whose values differ, either way round', () => {
    const h = new SimHarness().run(SCRIPT);
    const log = h.sim.kvm.log;
    const lines = h.events().flatMap((e, i) => (e.type === 'opBegin' ? [[e.line, i]] : []));
    const startOf = (line: number) => lines.find(([l]) => l === line)?.[1] ?? -1;
    // Before the exec fault and after recovery: sp 2[0] is the 2M leaf, then non-present; sp 3's
    // one 4K leaf was written and then frozen with its table.
    const a = startOf(4);
    const b = startOf(6);
    const d = stateDiff(log, a, b).map(
      (x) => `sp ${x.sp}[${x.index}] ${hex(x.fromLo, x.fromHi)} -> ${hex(x.toLo, x.toHi)}`,
    );
    expect(d).toEqual(['sp 2[0] 600004000000bf3 -> 0', 'sp 3[0] 0 -> 5a0']);
    expect(stateDiff(log, b, a)).toEqual(stateDiff(log, a, b));
    // Over the last read alone: only the 2M leaf coming back.
    expect(stateDiff(log, startOf(6), log.length)).toEqual([
      expect.objectContaining({ sp: 2, index: 0, toLo: 0x00000bf3 }),
    ]);
    // From the empty VM to the end: the path's two links, the 2M leaf, and the dead table's leaf.
    expect(
      stateDiff(log, 0, log.length).map(
        (x) => `sp ${x.sp}[${x.index}] ${hex(x.fromLo, x.fromHi)} -> ${hex(x.toLo, x.toHi)}`,
      ),
    ).toEqual([
      'sp 0[0] 0 -> 10001907',
      'sp 1[4] 0 -> 10002907',
      'sp 2[0] 0 -> 600004000000bf3',
      'sp 3[0] 0 -> 5a0',
    ]);
  });
});

describe('filtering the event log', () => {
  const run = () => new SimHarness().run(SCRIPT);
  const find = (h: SimHarness, text: string) => {
    const q = parseLogQuery(text);
    if (typeof q === 'string') throw new Error(q);
    return filterLog(
      h.sim.kvm.log,
      (id) => h.sim.kvm.sp(id),
      q,
      (i) => explainEvent(decodeEvent(h.sim.kvm.log, i, h.mirror.spOf)),
    ).indices;
  };

  it('finds one entry, one kind, a GFN range, a level and words in the sentence', () => {
    const h = run();
    // The six changes of sp 2[0] are the spte events of sp=2[0].
    expect(find(h, 'sp=2[0] kind=spte')).toEqual(
      entryChanges(h.sim.kvm.log, 2, 0).map((c) => c.event),
    );
    // Flushes: the exec fault's ranged flush of the 2M leaf, recovery's full flush.
    const flushes = find(h, 'kind=flush').map((i) =>
      explainEvent(decodeEvent(h.sim.kvm.log, i, h.mirror.spOf)),
    );
    expect(flushes).toEqual([
      'kvm_flush_remote_tlbs_with_address(): gfn 0x100000, 512 pages',
      'kvm_flush_remote_tlbs(): full flush',
    ]);
    // A GFN range outside the accessed frame: no SPTE or iterator event at level 1 or 2 there;
    // the L3 and L4 entries that span it, and the full flush, match.
    const far = find(h, 'gfn=0x100400-0x100600 kind=spte');
    expect(
      far
        .map((i) => decodeEvent(h.sim.kvm.log, i, h.mirror.spOf))
        .every((e) => e.type === 'spteChanged' && e.level >= 3),
    ).toBe(true);
    expect(find(h, 'level=1 kind=spte')).toEqual(find(h, 'sp=3 kind=spte'));
    expect(find(h, 'kvm_recover_nx_lpages').length).toBe(1);
  });

  it('names what is wrong with a filter', () => {
    expect(parseLogQuery('kind=bogus')).toBe(
      'kind=bogus: not a kind (kinds: spte, flush, iter, fault, nx, root, table, lock, op, warn)',
    );
    expect(parseLogQuery('sp=x')).toMatch(/^sp=x: give a table number/);
    expect(parseLogQuery('gfn=5-3')).toBe('gfn=5-3: the range is empty');
    expect(parseLogQuery('foo=1')).toMatch(/^unknown filter 'foo='/);
    expect(parseLogQuery('sp=3[0] level=1')).toEqual({ sp: 3, index: 0, level: 1 });
  });
});
