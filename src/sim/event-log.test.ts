import { describe, expect, it } from 'vitest';
import { EventLog, hi32, join32, lo32 } from './event-log.ts';

describe('EventLog', () => {
  it('keeps 32 bytes per event across chunk boundaries, with reads attached to the next event', () => {
    const log = new EventLog();
    for (let i = 0; i < 70_000; i++) {
      log.pendingReads += i % 3;
      log.push(2, i, 0, -1, 0x7fffffff, 0, 0, 0);
    }
    expect(log.length).toBe(70_000);
    expect(log.word(65_537, 1)).toBe(65_537);
    expect(log.word(65_537, 3)).toBe(0xffffffff);
    expect(log.reads(65_537)).toBe(65_537 % 3);
    expect(log.byteLength / log.length).toBeLessThan(64);
    expect(() => log.word(70_000, 0)).toThrow(/no event 70000/);
  });

  it('splits and joins GFNs beyond 32 bits', () => {
    const gfn = 2 ** 44 + 12345;
    expect(join32(lo32(gfn), hi32(gfn))).toBe(gfn);
  });

  it('ships a batch as raw words', () => {
    const log = new EventLog();
    log.push(1, 2, 3, 4, 5, 6, 7, 8);
    log.push(9, 10, 11, 12, 13, 14, 15, 16);
    expect(Array.from(log.slice(1, 2))).toEqual([9, 10, 11, 12, 13, 14, 15, 16]);
  });
});
