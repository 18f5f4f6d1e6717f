import { describe, expect, it } from 'vitest';
import { InProcessSimClient } from '../client/InProcessSimClient.ts';
import {
  compareSentence,
  hasStrategyStatements,
  paneMetrics,
  sameTables,
  withStrategy,
} from './compare.ts';
import { Session } from './session.ts';

const SCRIPT = `vm recovery_ratio=1
memslot gpa=0x100000000 size=6M backing=2M
access gpa=0x100000000 type=exec   # split
recover_nx strategy=direct   # recover
`;

async function ran(script: string): Promise<Session> {
  const s = new Session(new InProcessSimClient(), null);
  void s.start(() => Promise.resolve(script));
  for (let i = 0; i < 1000 && !s.settled(); i++) {
    await new Promise((r) => setTimeout(r, 0));
    s.advance(performance.now());
  }
  s.toEnd();
  for (let i = 0; i < 1000 && !s.settled(); i++) s.advance(performance.now());
  return s;
}

describe('compare mode', () => {
  it('rewrites only the strategy of recover_nx and zap_sp, keeping comments', () => {
    const walk = withStrategy(SCRIPT, 'walk');
    expect(walk.split('\n')[3]).toBe('recover_nx strategy=walk  # recover');
    expect(walk.split('\n').slice(0, 3)).toEqual(SCRIPT.split('\n').slice(0, 3));
    expect(hasStrategyStatements(SCRIPT)).toBe(true);
    expect(hasStrategyStatements('memslot gpa=0x1000 size=4K')).toBe(false);
  });

  it('measures each pane and says walk read more while both left the same tables', async () => {
    const a = await ran(withStrategy(SCRIPT, 'walk'));
    const b = await ran(SCRIPT);
    const ma = paneMetrics(a);
    const mb = paneMetrics(b);
    expect(ma.counters.spte_reads - mb.counters.spte_reads).toBe(6);
    expect(ma.rootsVisited).toBe(1);
    expect(mb.rootsVisited).toBe(1);
    expect(sameTables(a, b)).toBe(true);
    const text = compareSentence(['walk', 'direct'], ma, mb, true, [2, 2]);
    expect(text).toMatch(/^walk read 6 more SPTEs than direct/);
    expect(text).toMatch(/1 more ranged TLB flushes/);
    expect(text).toMatch(/Both leave identical tables\.$/);
  });

  it('explains a walk that cannot reach a table under an invalidated root', async () => {
    const script = `${SCRIPT.replace('recover_nx strategy=direct   # recover\n', '')}invalidate_roots\naccess gpa=0x200000000\nrecover_nx\n`;
    const a = await ran(withStrategy(script, 'walk'));
    const b = await ran(script);
    expect(sameTables(a, b)).toBe(false);
    const text = compareSentence(['walk', 'direct'], paneMetrics(a), paneMetrics(b), false, [
      null,
      null,
    ]);
    expect(text).toMatch(/walk left 1 NX-accounted table\(s\) that direct zapped/);
  });
});
