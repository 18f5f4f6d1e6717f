import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { roundGfnForLevel, sptIndex } from './geometry.ts';

// BigInt is exact at any width: the reference the integer shortcuts are held to.
const ref = (gfn: number, level: number) => {
  const g = BigInt(gfn);
  const shift = BigInt(9 * (level - 1));
  return {
    index: Number((g >> shift) & 511n),
    round: Number((g >> shift) << shift),
  };
};

describe('geometry', () => {
  it('indexes and rounds every GFN below 2^52 at every level as exact integer arithmetic does', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 52n - 1n }),
        fc.integer({ min: 1, max: 5 }),
        (g, level) => {
          const gfn = Number(g);
          expect({ index: sptIndex(gfn, level), round: roundGfnForLevel(gfn, level) }).toEqual(
            ref(gfn, level),
          );
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('gets the edges right: 2^31 and 2^32 boundaries, the last GFN of 52 bits', () => {
    for (const gfn of [
      0,
      511,
      512,
      2 ** 31 - 1,
      2 ** 31,
      2 ** 32 - 1,
      2 ** 32,
      2 ** 32 + 513,
      2 ** 52 - 1,
    ]) {
      for (let level = 1; level <= 5; level++) {
        expect({ index: sptIndex(gfn, level), round: roundGfnForLevel(gfn, level) }).toEqual(
          ref(gfn, level),
        );
      }
    }
  });
});
