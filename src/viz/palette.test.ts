import { describe, expect, it } from 'vitest';
import {
  makeLeafSpte,
  makeMmioSpte,
  makeNonLeafSpte,
  REMOVED_SPTE_LO,
  spteKind,
  type LeafRules,
  type Spte,
} from '../sim/spte.ts';
import { readFileSync } from 'node:fs';
import { Mirror } from '../sim/replay.ts';
import { readTrace } from '../sim/trace/read-trace.ts';
import { TraceRebuild } from '../sim/trace/rebuild.ts';
import { codeKind, entryCode, hasNxGlyph, tableEntryCode } from './palette.ts';

const rules = (nxHugePages: boolean, hostWritable: boolean): LeafRules => ({
  nxHugePages,
  hostWritable,
  presentHi: 0,
  dirtyOverWritable: true,
});

const s = (): Spte => ({ lo: 0, hi: 0 });

describe('entryCode', () => {
  it('agrees with spteKind for every kind of entry, and tells the leaf size', () => {
    const cases: [Spte, number, string][] = [
      [{ lo: 0, hi: 0 }, 1, 'none'],
      [{ lo: REMOVED_SPTE_LO, hi: 0 }, 2, 'removed'],
      [makeMmioSpte(0xfee00, 6, s()), 1, 'mmio'],
      [makeNonLeafSpte(0x10003, 0, s()), 2, 'table'],
      [makeLeafSpte(0x4000000, 1, 0, rules(true, true), s()), 1, '4k'],
      [makeLeafSpte(0x4000000, 2, 0, rules(true, true), s()), 2, '2m'],
      [makeLeafSpte(0x4000000, 3, 0, rules(false, true), s()), 3, '1g'],
    ];
    for (const [spte, level, kind] of cases) {
      const code = entryCode(spte.lo >>> 0, spte.hi >>> 0, level);
      expect(codeKind(code)).toBe(kind);
      const coarse = spteKind(spte.lo, spte.hi, level);
      expect(coarse === 'leaf' ? ['4k', '2m', '1g'].includes(kind) : coarse === kind).toBe(true);
    }
  });

  it('marks an X-stripped huge leaf with the NX glyph, and only that', () => {
    const huge = makeLeafSpte(0x4000000, 2, 0, rules(true, true), s());
    const exec = makeLeafSpte(0x4000000, 2, 0, rules(false, true), s());
    const small = makeLeafSpte(0x4000000, 1, 0, rules(true, true), s());
    expect(hasNxGlyph(entryCode(huge.lo, huge.hi, 2))).toBe(true);
    expect(hasNxGlyph(entryCode(exec.lo, exec.hi, 2))).toBe(false);
    expect(hasNxGlyph(entryCode(small.lo, small.hi, 1))).toBe(false);
  });
});

describe('tableEntryCode', () => {
  it("draws an imported trace's unseen entries as unknown, and a seen one by its value, both ways", () => {
    const r = TraceRebuild.of(readTrace(readFileSync('e2e/data/nx-recovery.trace.txt', 'utf8')));
    const log = r.kvm.log;
    const m = new Mirror();
    m.seek(log, log.length);
    const root = m.sps[0];
    if (!root) throw new Error('no root');
    // The trace shows the root's entry 0 (a pointer to sp 1) and nothing else of it.
    expect(codeKind(tableEntryCode(root, 0))).toBe('table');
    expect(codeKind(tableEntryCode(root, 1))).toBe('unknown');
    expect(codeKind(tableEntryCode(root, 511))).toBe('unknown');
    // Back to where only the vm and the implied root exist: entry 0 is unknown again.
    m.seek(log, 4);
    const early = m.sps[0];
    if (!early || early.freed) throw new Error('the root is not there at event 4');
    expect(codeKind(tableEntryCode(early, 0))).toBe('unknown');
  });
});
