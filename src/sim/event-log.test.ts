import { describe, expect, it } from 'vitest';
import { CHUNK_EVENTS, EventLog, hi32, join32, lo32, WORDS } from './event-log.ts';

describe('EventLog', () => {
  it('hands a full chunk over whole: its words, its buffer, and no copy left behind', () => {
    const log = new EventLog();
    for (let i = 0; i < CHUNK_EVENTS + 10; i++) log.push(2, i, 0, 0, 0, 0, 0, 0);
    expect(() => log.take(1)).toThrow('events from 1 are not a full chunk of this log');
    expect(() => log.take(CHUNK_EVENTS)).toThrow('not a full chunk');
    const words = log.take(0);
    expect(words.length).toBe(CHUNK_EVENTS * WORDS);
    expect(words[(CHUNK_EVENTS - 1) * WORDS + 1]).toBe(CHUNK_EVENTS - 1);
    // Transferable: after a transfer the page owns the only copy.
    const moved = structuredClone(words, { transfer: [words.buffer] });
    expect(moved[WORDS + 1]).toBe(1);
    expect(() => log.word(5, 1)).toThrow('event 5 was handed over');
    expect(log.word(CHUNK_EVENTS + 9, 1)).toBe(CHUNK_EVENTS + 9);
    expect(log.byteLength).toBe(CHUNK_EVENTS * WORDS * 4);
  });

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
