import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InProcessSimClient } from '../client/InProcessSimClient.ts';
import {
  compareSentence,
  deriveComparison,
  describeDifference,
  hasStrategyStatements,
  paneDifferences,
  paneMetrics,
  sameTables,
  scriptRelation,
  scriptStrategy,
  withKernel,
} from './compare.ts';
import { parseScenario, scriptKernel } from '../sim/scenario/parse.ts';
import { Session } from './session.ts';

const SCRIPT = `vm recovery_ratio=1
memslot gpa=0x100000000 size=6M backing=2M
access gpa=0x100000000 type=exec   # split
recover_nx strategy=direct   # recover
expect nx_lpage_splits=0
`;

/** The recovery worker against a table under an invalidated root (the seed review's worry). */
const INVALID = `vm recovery_ratio=1
memslot gpa=0x100000000 size=6M backing=2M
access gpa=0x100000000 type=exec
invalidate_roots
access gpa=0x100200000 type=read
recover_nx
`;

/** A script with nothing to zap (the UX review's unrelated script B). */
const UNRELATED = `vm levels=5 phys_bits=52
memslot gpa=0x100000000 size=2M backing=4K
access gpa=0x100000000 type=read
`;

async function ran(script: string): Promise<Session> {
  const s = new Session(new InProcessSimClient(), null);
  void s.start(() => Promise.resolve(script));
  for (let i = 0; i < 1000 && !s.settled(); i++) {
    await new Promise((r) => setTimeout(r, 0));
    s.advance(performance.now());
  }
  s.toEnd();
  for (let i = 0; i < 1000 && !s.settled(); i++) s.advance(performance.now());
  return s;
}

async function verdict(scriptA: string, scriptB: string, refaults = [null, null]) {
  const a = await ran(scriptA);
  const b = await ran(scriptB);
  return compareSentence(
    paneMetrics(a),
    paneMetrics(b),
    sameTables(a, b),
    refaults as [number | null, number | null],
    scriptRelation(scriptA, scriptB),
  );
}

describe('deriving the two scripts from the Explore script', () => {
  it('rewrites only the strategies that differ, keeping comments, and leaves B as written', () => {
    const { a, b, changed } = deriveComparison(SCRIPT);
    expect(changed).toBe(true);
    expect(b).toBe(SCRIPT);
    const lines = a.split('\n');
    expect(lines[3]).toBe('recover_nx strategy=walk  # recover');
    expect(lines.slice(0, 3)).toEqual(SCRIPT.split('\n').slice(0, 3));
    // The expect after the rewritten line was written for direct: it is off in A, not failing.
    expect(lines[4]).toBe('# expect nx_lpage_splits=0  (off in compare: written for the original)');
  });

  it('offers nothing to rewrite when no statement depends on a strategy', () => {
    expect(hasStrategyStatements(UNRELATED)).toBe(false);
    expect(deriveComparison(UNRELATED)).toEqual({ a: UNRELATED, b: UNRELATED, changed: false });
  });

  it('tells how the scripts relate and describes B against A', () => {
    const { a, b } = deriveComparison(SCRIPT);
    expect(scriptRelation(a, b)).toEqual({ kind: 'strategies' });
    expect(scriptRelation(SCRIPT, SCRIPT)).toEqual({ kind: 'same' });
    expect(scriptRelation(SCRIPT, UNRELATED)).toEqual({ kind: 'unrelated', lineA: 1, lineB: 1 });
    expect(describeDifference(a, b)).toBe(
      'B differs from A on 2 lines (line 4: strategy=walk → strategy=direct; line 5: an expect is off in one pane).',
    );
    expect(describeDifference(SCRIPT, UNRELATED)).toBe(
      'The scripts run different statements from line 1 of A and line 1 of B on: the panes compare two different runs.',
    );
    expect(describeDifference(b, b)).toBe('Both scripts are the same: both panes will match.');
  });

  it('a trace in a pane is told apart without reading it as a scenario', () => {
    const trace =
      'CPU 0/KVM-9 [000] 1.5: kvm_tdp_mmu_spte_changed: as id 0 gfn 100 level 4 old_spte 0 new_spte 10001907\n';
    expect(scriptRelation(trace, SCRIPT)).toEqual({ kind: 'unrelated', lineA: null, lineB: null });
    expect(scriptStrategy(trace)).toBeNull();
    expect(hasStrategyStatements(trace)).toBe(false);
    expect(describeDifference(trace, SCRIPT)).toBe(
      'Pane A holds an imported trace and pane B a scenario: they compare two different runs.',
    );
    expect(describeDifference(trace, trace + trace)).toBe(
      'The panes hold two different traces: they compare two different runs.',
    );
  });
});

describe('the compare verdict says only what was measured', () => {
  it('names the walk and the sp->ptep read when one pane walked and the other did not', async () => {
    const { a, b } = deriveComparison(SCRIPT);
    const text = await verdict(a, b, [2, 2] as never);
    // Both: 7 reads and 4 iterator visits to map the exec fault, 512 reads in handle_removed_pt().
    // The zap: walk 3 visits with 7 reads, direct 1 read of *sp->ptep; only the walk's 5.16
    // handler adds a ranged flush (both end with the full one).
    expect(text).toBe(
      'A (walk) read 6 more SPTEs than B (direct) (526 vs 520): its zaps walked the GFN range from the roots (7 iterator visits in all) where B (direct) read *sp->ptep (1 zap). ' +
        'A (walk) issued 1 more ranged TLB flushes than B (direct) (1 vs 0): on the walk path the 5.16 handler flushes each removed table’s range. ' +
        'Both leave identical tables.',
    );
  });

  it('counts the accounted tables left as a difference and names the sp the walk missed', async () => {
    const { a, b } = deriveComparison(INVALID);
    const text = await verdict(a, b);
    expect(text).toMatch(
      /The tables differ: A \(walk\) has 1 more NX-accounted table than B \(direct\) \(nx_lpage_splits 1 vs 0\): A \(walk\)'s recovery could not reach sp 3 \(under invalid root sp 0\)\.$/,
    );
  });

  it('with two accounted tables left against one, the difference is one', async () => {
    const script = `vm recovery_ratio=2
memslot gpa=0x100000000 size=8M backing=2M
access gpa=0x100000000 type=exec
access gpa=0x100200000 type=exec
access gpa=0x100400000 type=exec
invalidate_roots
access gpa=0x100600000 type=read
recover_nx
`;
    const { a, b } = deriveComparison(script);
    const text = await verdict(a, b);
    // to_zap = ceil(3 / 2) = 2: direct zaps two of three, the walk reaches none of them.
    expect(text).toContain(
      'A (walk) has 2 more NX-accounted tables than B (direct) (nx_lpage_splits 3 vs 1)',
    );
  });

  it('says plainly that unrelated scripts are unrelated, and claims no cause', async () => {
    const text = await verdict(SCRIPT, UNRELATED);
    expect(text.startsWith('The scripts are unrelated:')).toBe(true);
    expect(text).not.toMatch(/walk|sp->ptep|invalid|5\.16/);
    expect(text).toMatch(/^.*A \(direct\) read \d+ more SPTEs than B \(/);
    // B ran no zap: its label names no strategy.
    expect(text).toMatch(/than B \(\d/);
  });

  it('5.18 vs 6.18 on the recovery story: the costs side by side, each fact from the events', async () => {
    const story = readFileSync('public/presets/nx-recovery-6.18.tdp', 'utf8');
    const { a, b } = deriveComparison(story, { by: 'kernel', a: '5.18', b: '6.18' });
    expect(scriptRelation(a, b)).toEqual({ kind: 'kernels' });
    // Expects written for 6.18 are off in the 5.18 pane, kept in the 6.18 one.
    expect(a).toMatch(
      /^# expect pages_2m=0 pages_4k=513 .*\(off in compare: written for kernel 6\.18\)$/m,
    );
    expect(b).toBe(story);
    const [pa, pb] = [await ran(a), await ran(b)];
    const [ma, mb] = [paneMetrics(pa), paneMetrics(pb)];
    // By hand: 5.18 recovery reads *sp->ptep + 512 per table (2 tables) and freezes the 2 present
    // leaves; 6.18 reads *sp->ptep only and freezes all 1,024 entries, by xchg.
    expect([ma.frozenExclusive, ma.frozenShared, mb.frozenExclusive, mb.frozenShared]).toEqual([
      2, 0, 0, 1024,
    ]);
    expect([ma.counters.tlb_flushes_full, mb.counters.tlb_flushes_full]).toEqual([1, 1]);
    expect(sameTables(pa, pb)).toBe(false);
    const bit63 = sameTables(pa, pb, true);
    const text = compareSentence(ma, mb, false, [null, null], scriptRelation(a, b), bit63);
    expect(text).toContain(
      "A (5.18 direct) read 1,025 more SPTEs than B (6.18 atomic) (1,056 vs 31); A (5.18 direct)'s teardowns ran exclusive",
    );
    expect(text).toContain(
      "B (6.18 atomic)'s zaps froze all 512 entries of each removed table (1,024 frozen values written) where A (5.18 direct)'s froze only the present ones (2)",
    );
    expect(text).toContain('B (6.18 atomic) made');
    // 5.18 zaps the huge leaf with a ranged flush on the exec fault; 6.18 splits without one.
    expect(text).toContain('A (5.18 direct) issued 1 more ranged TLB flushes than B (6.18 atomic)');
    // Different encodings (bit 63) but the same structure once it is masked off.
    expect(bit63).toBe(true);
    expect(text).toContain('Both leave the same tables but for bit 63');
  });

  it('finds no difference between a script and itself', async () => {
    expect(await verdict(SCRIPT, SCRIPT)).toBe(
      'No difference in cost so far. Both leave identical tables.',
    );
  });
});

describe('the A/B difference, entry by entry', () => {
  it('lists the entries of the tables both panes have, and the tables only one has', async () => {
    const { a, b } = deriveComparison(INVALID);
    const [pa, pb] = [await ran(a), await ran(b)];
    const rows = paneDifferences(pa.mirror, pb.mirror).map((r) =>
      r.kind === 'entry'
        ? `sp ${r.spA}/${r.spB}[${r.index}] ${r.a.toString(16)} | ${r.b.toString(16)}`
        : `only ${r.pane}: sp ${r.sp} gfn ${r.gfn.toString(16)} L${r.level}`,
    );
    // The walk never reached sp 3 under the invalid root 0: A still has the L2 entry pointing at
    // it and the table with its one exec 4K leaf; B zapped it through sp->ptep.
    expect(rows).toEqual(['sp 2/2[0] 10003907 | 0', 'only A: sp 3 gfn 100000 L1']);
    expect(paneDifferences(pa.mirror, pa.mirror)).toEqual([]);
  });
});

describe('writing the kernel into a script', () => {
  it('sets the opening vm line, adds kernel= to it, or puts a vm line before the first statement', () => {
    expect(withKernel('vm kernel=5.16 levels=4  # mine\nmemslot gpa=0 size=4K', '6.18')).toBe(
      'vm kernel=6.18 levels=4  # mine\nmemslot gpa=0 size=4K',
    );
    expect(withKernel('# a comment\nvm recovery_ratio=1\naccess gpa=0', '5.16')).toBe(
      '# a comment\nvm kernel=5.16 recovery_ratio=1\naccess gpa=0',
    );
    // A vm line after the first operation cannot set the kernel: a new line goes in first.
    expect(withKernel('# top\nmemslot gpa=0 size=4K\nvm recovery_ratio=1', '6.18')).toBe(
      '# top\nvm kernel=6.18\nmemslot gpa=0 size=4K\nvm recovery_ratio=1',
    );
    expect(withKernel('', '6.18')).toBe('vm kernel=6.18\n');
    // What it writes parses and runs on that kernel.
    const s = withKernel(SCRIPT, '6.18');
    expect(parseScenario(s).errors).toEqual([]);
    expect(scriptKernel(parseScenario(s).statements)).toBe('6.18');
  });
});
