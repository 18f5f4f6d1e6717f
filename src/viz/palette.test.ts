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
import { codeKind, entryCode, hasNxGlyph } from './palette.ts';

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
