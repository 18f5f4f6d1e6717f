import { describe, expect, it } from 'vitest';
import { EditHistory } from './edit-history.ts';

/** Type `text` one character at a time, `ms` apart, starting at `t0`. */
function type(h: EditHistory, from: string, text: string, t0: number, ms = 50): string {
  let v = from;
  for (let i = 0; i < text.length; i++) {
    v += text[i];
    h.record(v, v.length, t0 + i * ms);
  }
  return v;
}

describe('EditHistory', () => {
  it('undoes a typed word in one step, and a pause starts the next step', () => {
    const h = new EditHistory('');
    let v = type(h, '', 'access', 0);
    v = type(h, v, ' gpa=0x1000', 5_000);
    expect(h.undo(v)?.value).toBe('access');
    expect(h.undo('access')?.value).toBe('');
    expect(h.undo('')).toBeNull();
    expect(h.redo()?.value).toBe('access');
    expect(h.redo()?.value).toBe('access gpa=0x1000');
  });

  it('breaks steps at a space after a word and between typing and deleting', () => {
    const h = new EditHistory('');
    let v = type(h, '', 'zap_sp level=1', 0);
    h.record(v.slice(0, -1), v.length - 1, 800);
    v = v.slice(0, -1);
    expect(h.undo(v)?.value).toBe('zap_sp level=1');
    expect(h.undo('zap_sp level=1')?.value).toBe('zap_sp');
  });

  it('keeps a script set from outside as one step, so a replaced script comes back', () => {
    const h = new EditHistory('');
    const mine = type(h, '', 'vm levels=5', 0);
    h.external('# a preset\n');
    expect(h.undo('# a preset\n')?.value).toBe(mine);
  });
});
