import { describe, expect, it } from 'vitest';
import {
  decodeSpte,
  fromBig,
  isLeaf,
  isMmioSpte,
  isRemovedSpte,
  isShadowPresent,
  makeLeafSpte,
  makeMmioSpte,
  makeNonLeafSpte,
  makeSplitSpte,
  REMOVED_SPTE_LO,
  sptePfn,
  spteKind,
  toBig,
  type LeafRules,
} from './spte.ts';

const rules = (nxHugePages: boolean, hostWritable: boolean): LeafRules => ({
  nxHugePages,
  hostWritable,
  presentHi: 0,
  dirtyOverWritable: true,
});

const big = (s: { lo: number; hi: number }) => toBig(s.lo, s.hi);
const out = () => ({ lo: 0, hi: 0 });

describe('SPTE encoding (EPT, A/D enabled)', () => {
  it('builds a writable 4K leaf: present, A, D, R W X, WB memtype + IPAT, host- and MMU-writable', () => {
    expect(big(makeLeafSpte(0x4000000, 1, 0, rules(true, true), out()))).toBe(0x0600004000000b77n);
  });

  it('withholds X from a huge leaf while the NX huge page mitigation is on, and sets bit 7', () => {
    expect(big(makeLeafSpte(0x4000000, 2, 0, rules(true, true), out()))).toBe(0x0600004000000bf3n);
    expect(big(makeLeafSpte(0x4000000, 2, 0, rules(false, true), out()))).toBe(0x0600004000000bf7n);
    expect(big(makeLeafSpte(0x4000000, 3, 0, rules(true, true), out()))).toBe(0x0600004000000bf3n);
  });

  it('leaves a read-only host mapping without W, D and the writable bits', () => {
    expect(big(makeLeafSpte(0x1234, 1, 0, rules(true, false), out()))).toBe(0x1234975n);
  });

  it('builds a non-leaf SPTE as make_nonleaf_spte does: present | PA | RWX | Accessed', () => {
    const s = makeNonLeafSpte(0x10003, 0, out());
    expect(big(s)).toBe(0x10003907n);
    expect(isLeaf(s.lo, 2)).toBe(false);
    expect(isShadowPresent(s.lo)).toBe(true);
  });

  it('keeps PFN bits above bit 31 intact across the two halves', () => {
    const s = makeLeafSpte(0xf_ffff_ffff, 1, 0, rules(false, true), out());
    expect(sptePfn(s.lo, s.hi)).toBe(0xf_ffff_ffff);
    expect(big(s)).toBe(0x0600_ffff_ffff_fb77n);
  });

  it('encodes REMOVED_SPTE as 0x5a0: not present, not MMIO', () => {
    expect(isRemovedSpte(REMOVED_SPTE_LO, 0)).toBe(true);
    expect(isShadowPresent(REMOVED_SPTE_LO)).toBe(false);
    expect(isMmioSpte(REMOVED_SPTE_LO)).toBe(false);
    expect(spteKind(REMOVED_SPTE_LO, 0, 1)).toBe('removed');
  });

  it('builds an MMIO SPTE: W+X without R, the GPA, and the generation in bits 3..10 and 52..62', () => {
    const s = makeMmioSpte(0x200000, 0x301, out());
    expect(big(s)).toBe((0x3n << 52n) | 0x200000000n | (0x01n << 3n) | 0x6n);
    expect(isMmioSpte(s.lo)).toBe(true);
    expect(isShadowPresent(s.lo)).toBe(false);
    expect(spteKind(s.lo, s.hi, 1)).toBe('mmio');
  });

  it('splits a 2M leaf into 4K children: offset PFN, bit 7 cleared, X back with NX on', () => {
    const huge = makeLeafSpte(0x4000000, 2, 0, rules(true, true), out());
    expect(big(makeSplitSpte(huge.lo, huge.hi, 2, 0, true, out()))).toBe(0x0600004000000b77n);
    expect(big(makeSplitSpte(huge.lo, huge.hi, 2, 511, true, out()))).toBe(0x06000040001ffb77n);
  });

  it('splits a 1G leaf into 2M children that stay huge and non-executable', () => {
    const huge = makeLeafSpte(0x4000000, 3, 0, rules(true, true), out());
    expect(big(makeSplitSpte(huge.lo, huge.hi, 3, 3, true, out()))).toBe(0x0600004000600bf3n);
  });

  it('converts to and from bigint without losing a bit', () => {
    for (const v of [0n, 0x5a0n, 0xffff_ffff_ffff_ffffn, 0x8000_0000_0000_0907n]) {
      const s = fromBig(v);
      expect(toBig(s.lo, s.hi)).toBe(v);
    }
  });

  it('decodes a leaf bit by bit with the kernel names', () => {
    const s = makeLeafSpte(0x4000000, 2, 0, rules(true, true), out());
    const bits = Object.fromEntries(decodeSpte(s.lo, s.hi, 2).map((b) => [b.bits, b.value]));
    expect(bits).toMatchObject({ '0': '1', '2': '0', '7': '1', '11': '1', '12-51': '0x4000000' });
  });
});

describe('6.x encodings', () => {
  it('FROZEN_SPTE is 0x80000000000005a0 whether the high word is read signed or unsigned', () => {
    expect(isRemovedSpte(REMOVED_SPTE_LO, 1 << 31)).toBe(true);
    expect(isRemovedSpte(REMOVED_SPTE_LO, 0x80000000)).toBe(true);
    expect(spteKind(REMOVED_SPTE_LO, 0x80000000, 1)).toBe('removed');
    // SHADOW_NONPRESENT_VALUE is non-present, and not frozen.
    expect(spteKind(0, 0x80000000, 1)).toBe('none');
  });

  it('a present SPTE with bit 63 (suppress #VE) is still present: bit 11 decides', () => {
    const s = makeLeafSpte(0x4000000, 2, 0, { ...rules(true, true), presentHi: 1 << 31 }, out());
    expect(big(s)).toBe(0x8600004000000bf3n);
    expect(isShadowPresent(s.lo)).toBe(true);
  });
});
