import { afterEach, describe, expect, it } from 'vitest';
import type { Session } from '../store/session.ts';
import { FrameLoop } from './FrameLoop.ts';

const frames: ((now: number) => void)[] = [];
const g = globalThis as unknown as {
  requestAnimationFrame: (cb: (now: number) => void) => number;
  cancelAnimationFrame: (id: number) => void;
};
g.requestAnimationFrame = (cb) => frames.push(cb);
g.cancelAnimationFrame = () => {};

afterEach(() => {
  frames.length = 0;
});

/** A session whose advance() throws while `failing` says so. */
function fakeSession(state: { failing: boolean; advanced: number }): Session {
  return {
    onWake: () => {},
    advance: () => {
      state.advanced++;
      if (state.failing) throw new Error('boom');
      return null;
    },
    settled: () => true,
  } as unknown as Session;
}

describe('FrameLoop', () => {
  it('goes on after a frame throws, and tells each message once', () => {
    const told: string[] = [];
    const idles: boolean[] = [];
    const loop = new FrameLoop(
      (idle) => idles.push(idle),
      (_s, e) => told.push((e as Error).message),
    );
    const state = { failing: true, advanced: 0 };
    const s = fakeSession(state);
    loop.watch(s);
    frames.shift()?.(16);
    loop.request();
    frames.shift()?.(33);
    expect(told).toEqual(['boom']);
    state.failing = false;
    loop.request();
    frames.shift()?.(50);
    expect(state.advanced).toBe(3);
    expect(idles[idles.length - 1]).toBe(true);
  });
});
