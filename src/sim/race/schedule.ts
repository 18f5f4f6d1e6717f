// Schedules: how a race picks the actor at each scheduling point, and their text form.
import type { Chooser } from './race.ts';

export type ScheduleSpec =
  | { kind: 'round-robin' }
  | { kind: 'random'; seed: number }
  | { kind: 'list'; picks: readonly number[] };

/** The chooser a schedule stands for; each call starts it afresh. */
export function chooserFor(s: ScheduleSpec): Chooser {
  switch (s.kind) {
    case 'round-robin': {
      let last = -1;
      return (runnable) => {
        last = runnable.find((i) => i > last) ?? runnable[0] ?? 0;
        return last;
      };
    }
    case 'random': {
      const next = mulberry32(s.seed);
      return (runnable) => runnable[Math.floor(next() * runnable.length)] ?? 0;
    }
    case 'list':
      // When the list runs out, the lowest-numbered runnable actor continues.
      return (runnable, point) => s.picks[point] ?? runnable[0] ?? 0;
  }
}

/** A small seeded PRNG (mulberry32): the same seed gives the same schedule everywhere. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks as `schedule=` writes them: runs of one actor as `I*N`, so 512 freezes stay short. */
export function formatPicks(picks: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < picks.length;) {
    let j = i;
    while (picks[j] === picks[i]) j++;
    const n = j - i;
    out.push(n > 2 ? `${picks[i]}*${n}` : Array(n).fill(picks[i]).join(','));
    i = j;
  }
  return out.join(',');
}

/**
 * The shortest list that replays `picks`: trailing picks that equal the lowest runnable actor at
 * their point are what an exhausted list does anyway.
 */
export function trimPicks(picks: readonly number[], lowest: readonly number[]): number[] {
  let n = picks.length;
  while (n > 0 && picks[n - 1] === lowest[n - 1]) n--;
  return picks.slice(0, n);
}

/** `schedule=` as text: round-robin, random, or a list of actor indices with `I*N` runs. */
export function readSchedule(
  text: string,
  actors: number,
): { kind: 'round-robin' } | { kind: 'random' } | { kind: 'list'; picks: number[] } | string {
  if (text === 'round-robin') return { kind: text };
  if (text === 'random') return { kind: text };
  const picks: number[] = [];
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:\*(\d+))?$/.exec(part);
    if (!m) {
      return `'${part.slice(0, 16)}' is not an actor index (schedule= takes round-robin, random, or indices like 0,1,1 or 1*512)`;
    }
    const actor = Number(m[1]);
    const times = m[2] === undefined ? 1 : Number(m[2]);
    if (actor >= actors) {
      return `actor ${actor} does not exist: the block lists ${actors} actor${actors === 1 ? '' : 's'} (0 to ${actors - 1})`;
    }
    if (times < 1 || picks.length + times > MAX_PICKS) {
      return `a schedule lists at most ${MAX_PICKS} scheduling points`;
    }
    for (let k = 0; k < times; k++) picks.push(actor);
  }
  return { kind: 'list', picks };
}

/** The longest explicit schedule (more points than any race of a few actors takes). */
export const MAX_PICKS = 1_000_000;
