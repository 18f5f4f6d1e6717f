import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../sim/scenario/parse.ts';
import { runStatements } from '../../sim/scenario/run.ts';
import { TOURS } from './tours.ts';

describe('The guided tours', () => {
  it('have unique ids and 6 to 10 steps each', () => {
    expect(new Set(TOURS.map((t) => t.id)).size).toBe(TOURS.length);
    expect(TOURS.map((t) => t.id)).toEqual([
      'nx',
      'zap-sp',
      'invalid-root',
      'recovery-6.18',
      'race-6.18',
    ]);
    for (const tour of TOURS) {
      expect(tour.steps.length, tour.id).toBeGreaterThanOrEqual(6);
      expect(tour.steps.length, tour.id).toBeLessThanOrEqual(10);
    }
  });

  describe.each(TOURS.map((t) => [t.id, t] as const))('%s', (_id, tour) => {
    const parsed = parseScenario(tour.script);

    it('has a script that parses without errors and states its key facts with expect', () => {
      expect(parsed.errors).toEqual([]);
      expect(parsed.statements.some((st) => st.kind === 'expect')).toBe(true);
    });

    it('runs its script with every expect holding', () => {
      const run = runStatements(parsed.statements);
      expect(run.error).toBeNull();
      expect(run.failures).toEqual([]);
    });

    it('puts every step at a statement that produces events, in timeline order', () => {
      let previous = 0;
      tour.steps.forEach((step, i) => {
        const st = parsed.statements.find((s) => s.line === step.at.line);
        expect(st?.kind, `step ${i + 1} at line ${step.at.line}`).toBeDefined();
        expect(st?.kind, `step ${i + 1} at line ${step.at.line}`).not.toBe('expect');
        // Inside a race a stretch comes after the race's start and before its end.
        const within = step.at.stretch === undefined ? 0 : (step.at.stretch + 1) / 1e4 - 1;
        const position = step.at.line * 2 + (step.at.edge === 'after' ? 1 : 0) + within;
        expect(position, `step ${i + 1} goes back in time`).toBeGreaterThanOrEqual(previous);
        previous = position;
      });
    });

    it('highlights a line of the pseudo-code of every step, 3 to 10 lines long', () => {
      tour.steps.forEach((step, i) => {
        expect(Number.isInteger(step.line), `step ${i + 1}`).toBe(true);
        expect(step.line, `step ${i + 1}`).toBeGreaterThanOrEqual(0);
        expect(step.line, `step ${i + 1}`).toBeLessThan(step.pseudo.length);
        expect(step.pseudo.length, `step ${i + 1}`).toBeGreaterThanOrEqual(3);
        expect(step.pseudo.length, `step ${i + 1}`).toBeLessThanOrEqual(10);
        expect(step.kernel.length, `step ${i + 1}`).toBeGreaterThan(0);
        expect(step.title.trim(), `step ${i + 1}`).not.toBe('');
        expect(step.text.trim(), `step ${i + 1}`).not.toBe('');
      });
    });
  });
});
