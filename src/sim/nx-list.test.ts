import { describe, expect, it } from 'vitest';
import type { Sp } from './kvm.ts';
import { NxList } from './nx-list.ts';

const sp = (id: number) => ({ id }) as unknown as Sp;

describe('the NX list', () => {
  it('keeps accounting order through removals from the middle, and re-accounts at the tail', () => {
    const [a, b, c] = [sp(1), sp(2), sp(3)];
    const list = new NxList();
    list.push(a);
    list.push(b);
    list.push(c);
    list.remove(b);
    expect([...list].map((s) => s.id)).toEqual([1, 3]);
    expect(list.head()?.id).toBe(1);
    list.push(b);
    list.remove(a);
    expect([...list].map((s) => s.id)).toEqual([3, 2]);
    expect(list.size).toBe(2);
    expect(list.has(a)).toBe(false);
    list.clear();
    expect(list.head()).toBeUndefined();
  });
});
