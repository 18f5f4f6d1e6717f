import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../events.ts';
import { changeCallout, explainEvent, stepSentence, tracepointLine } from '../explain.ts';
import type { Kvm, Sp } from '../kvm.ts';
import { PRESETS } from '../presets.ts';
import { Mirror } from '../replay.ts';
import { parseScenario } from '../scenario/parse.ts';
import { runStatements } from '../scenario/run.ts';
import { Simulator } from '../simulator.ts';
import { isLastSpte, isShadowPresent, toBig } from '../spte.ts';
import { looksLikeTrace, readTrace } from './read-trace.ts';
import { TraceRebuild } from './rebuild.ts';

const rebuild = (text: string) => TraceRebuild.of(readTrace(text));

/** What a final structure holds: its tables (level, gfn) and leaves (level, gfn, spte), sorted. */
function shape(tables: Sp[]): { tables: string[]; leaves: string[] } {
  const out = { tables: [] as string[], leaves: [] as string[] };
  for (const sp of tables) {
    let maps = false;
    for (let i = 0; i < 512; i++) {
      const lo = sp.spt[2 * i] ?? 0;
      if (!isShadowPresent(lo)) continue;
      maps = true;
      if (!isLastSpte(lo, sp.level)) continue;
      const gfn = sp.gfn + i * 512 ** (sp.level - 1);
      out.leaves.push(
        `L${sp.level} ${gfn.toString(16)} ${toBig(lo, sp.spt[2 * i + 1] ?? 0).toString(16)}`,
      );
    }
    // A root that maps nothing leaves no trace line behind.
    if (!sp.isRoot || maps) out.tables.push(`L${sp.level} ${sp.gfn.toString(16)}`);
  }
  out.tables.sort();
  out.leaves.sort();
  return out;
}

/** The tables reachable from the model's roots at the end of a run. */
function reachable(kvm: Kvm): Sp[] {
  const seen: Sp[] = [];
  const walk = (sp: Sp) => {
    seen.push(sp);
    if (sp.level === 1) return;
    for (let i = 0; i < 512; i++) {
      const lo = sp.spt[2 * i] ?? 0;
      if (isShadowPresent(lo) && !isLastSpte(lo, sp.level))
        walk(kvm.childOf(lo, sp.spt[2 * i + 1] ?? 0));
    }
  };
  for (const r of kvm.roots) walk(r);
  return seen;
}

function tracepointText(kvm: Kvm): string {
  const lines: string[] = [];
  for (let i = 0; i < kvm.log.length; i++) {
    const l = tracepointLine(decodeEvent(kvm.log, i, (id) => kvm.sp(id)));
    if (l) lines.push(l);
  }
  return lines.join('\n') + '\n';
}

const line = (task: string, cpu: number, ts: string, body: string) =>
  `${task} [${String(cpu).padStart(3, '0')}] ${ts}: ${body}`;

describe('reading trace text', () => {
  it('reads trace-cmd report lines, task names with spaces and dashes, and padded event names', () => {
    const r = readTrace(
      [
        'version = 6',
        'cpus=2',
        line(
          ' CPU 0/KVM-4242',
          1,
          '1234.567890',
          'kvm_tdp_mmu_spte_changed:     as id 0 gfn 100000 level 2 old_spte 0 new_spte 600004000000bf3',
        ),
        line(
          'qemu-system-x86-77',
          0,
          '1234.600000',
          'kvm_page_fault:        vcpu 1 rip 0xffffffff81000000 address 0x0000000100000000 error_code 0x182',
        ),
      ].join('\n'),
    );
    expect(r.records.map((x) => [x.task, x.pid, x.cpu, x.ts, x.event])).toEqual([
      ['CPU 0/KVM', 4242, 1, '1234.567890', 'kvm_tdp_mmu_spte_changed'],
      ['qemu-system-x86', 77, 0, '1234.600000', 'kvm_page_fault'],
    ]);
    expect(r.records[0]?.ev).toEqual({
      kind: 'spteChanged',
      asId: 0,
      gfn: 0x100000,
      level: 2,
      old: 0n,
      new: 0x600004000000bf3n,
    });
    expect(r.records[1]?.ev).toEqual({
      kind: 'pageFault',
      vcpu: 1,
      address: 0x100000000n,
      errorCode: 0x182n,
    });
  });

  it('reads raw ftrace lines with 4- and 5-character flags, a tgid column, CRLF and the old kvm_page_fault', () => {
    const text = [
      '# tracer: nop',
      '#',
      '  CPU 1/KVM-5012    [003] d.... 88.000100: kvm_tdp_mmu_spte_changed: as id 1 gfn 7 level 1 old_spte 0 new_spte 8000000000000000',
      ' kworker/u8:2-31    (   31) [000] ....  88.000200: kvm_page_fault: address 7000 error_code 6',
    ].join('\r\n');
    const r = readTrace(text);
    expect(r.records.map((x) => [x.task, x.pid, x.cpu, x.ts])).toEqual([
      ['CPU 1/KVM', 5012, 3, '88.000100'],
      ['kworker/u8:2', 31, 0, '88.000200'],
    ]);
    expect(r.records[0]?.ev).toMatchObject({ asId: 1, new: 0x8000000000000000n });
    expect(r.records[1]?.ev).toEqual({
      kind: 'pageFault',
      vcpu: null,
      address: 0x7000n,
      errorCode: 6n,
    });
  });

  it('joins an event a mailer wrapped, in the payload or after the prefix', () => {
    const r = readTrace(
      [
        'CPU 0/KVM-1 [000] 5.000001: kvm_tdp_mmu_spte_changed: as id 0 gfn 200 level 1 old_spte 0',
        '  new_spte 600004000200b77',
        'CPU 0/KVM-1 [000] 5.000002: kvm_mmu_set_spte: gfn 200 spte 600004000200b77 (rwx) level 1',
        'at 100042000',
        'CPU 0/KVM-1 [000] 5.000003:',
        ' kvm_mmu_spte_requested: gfn 201 pfn 4000201 level 1',
      ].join('\n'),
    );
    expect(r.records.map((x) => x.line)).toEqual([1, 3, 5]);
    expect(r.records[0]?.ev).toMatchObject({ new: 0x600004000200b77n });
    expect(r.records[1]?.ev).toMatchObject({ kind: 'setSpte', at: 0x100042000n, level: 1 });
    expect(r.records[2]).toMatchObject({
      task: 'CPU 0/KVM',
      ts: '5.000003',
      ev: { kind: 'spteRequested', gfn: 0x201 },
    });
    expect(r.skipped).toEqual({});
  });

  it('skips stack traces and other events by name, and reports lost events', () => {
    const r = readTrace(
      [
        'CPU 0/KVM-1 [000] 5.1: kvm_exit: reason EPT_VIOLATION rip 0x0 info 0 0',
        'CPU 0/KVM-1 [000] 5.2: kernel_stack: <stack trace>',
        ' => kvm_tdp_mmu_map',
        ' => kvm_tdp_page_fault',
        'CPU:1 [LOST 120 EVENTS]',
        'CPU 0/KVM-1 [000] 5.3: kvm_mmu_split_huge_page: gfn 200 spte 600004000200bf3 level 2 errno -12',
        'CPU 0/KVM-1 [000] 5.4: kvm_exit: reason HLT',
      ].join('\n'),
    );
    expect(r.skipped).toEqual({ kvm_exit: 2, kernel_stack: 1, 'stack trace': 2 });
    expect(r.lostEvents).toBe(120);
    expect(r.records.map((x) => x.ev.kind)).toEqual(['lost', 'split']);
    expect(r.records[1]?.ev).toMatchObject({ errno: -12, level: 2 });
  });

  it('names the first line that looks like a trace line but does not read, when none reads', () => {
    const r = readTrace('hello\nCPU 0/KVM-1 [000] 5.1: kvm_tdp_mmu_spte_changed: as id 0 gfn zz\n');
    expect(r.records).toEqual([]);
    expect(r.firstBad).toEqual({
      line: 2,
      message: 'kvm_tdp_mmu_spte_changed: the payload does not read as the kernel prints it',
    });
    expect(
      readTrace('kvm_tdp_mmu_spte_changed: as id 0 gfn 1 level 9 old_spte 0 new_spte 0').firstBad
        ?.message,
    ).toBe('kvm_tdp_mmu_spte_changed: level 9 is not 1..5');
  });

  it('tells a trace from a scenario', () => {
    expect(looksLikeTrace('vm levels=4\naccess 0x100 read\n')).toBe(false);
    // A scenario quoting a trace line in a comment is still the user's scenario.
    expect(
      looksLikeTrace(
        'vm kernel=6.18\n  # kvm_tdp_mmu_spte_changed: as id 0 gfn 0 level 4 old_spte 0 new_spte 0\n',
      ),
    ).toBe(false);
    expect(looksLikeTrace('# exported\nkvm_tdp_mmu_spte_changed: as id 0 gfn 0 level 4')).toBe(
      true,
    );
    expect(looksLikeTrace('x-1 [000] 1.0: kvm_mmu_set_spte: gfn 1 spte 0 (---) level 1 at 0')).toBe(
      true,
    );
    // A report that opens with other events (its first TDP MMU record may be megabytes in).
    expect(looksLikeTrace('CPU 0/KVM-9 [000] 0.5: kvm_exit: reason EPT_VIOLATION rip 0x1\n')).toBe(
      true,
    );
    expect(looksLikeTrace('  qemu-1 (  1) [001] d.... 0.5: kvm_entry: vcpu 0\n')).toBe(true);
    expect(looksLikeTrace('# CPU 0/KVM-9 [000] 0.5: kvm_exit: reason HLT\nvm levels=4\n')).toBe(
      false,
    );
  });
});

describe('rebuilding the paging structure', () => {
  it('links tables through the PFN chain and counts leaves (5.x encoding)', () => {
    const r = rebuild(
      [
        'kvm_tdp_mmu_spte_changed: as id 0 gfn 0 level 4 old_spte 0 new_spte 10001907',
        'kvm_tdp_mmu_spte_changed: as id 0 gfn 100000 level 3 old_spte 0 new_spte 10002907',
        'kvm_tdp_mmu_spte_changed: as id 0 gfn 100000 level 2 old_spte 0 new_spte 600004040000bf3',
      ].join('\n'),
    );
    const s = r.summary();
    expect(s).toMatchObject({
      kernel: '5.18',
      spte_changes: 3,
      leaves: { '4k': 0, '2m': 1, '1g': 0 },
      tables: 3,
      roots: 1,
      inferred_tables: 1,
    });
    // Each record opens with its line and event, in words.
    const first = r.spans[2]?.firstEvent ?? -1;
    expect(explainEvent(decodeEvent(r.kvm.log, first, (id) => r.kvm.sp(id)))).toBe(
      'trace line 3: kvm_tdp_mmu_spte_changed',
    );
    const [root, l3, l2] = r.liveTables();
    expect([root?.level, l3?.level, l2?.level]).toEqual([4, 3, 2]);
    expect(l3?.parent).toBe(root);
    expect(l2?.parent).toBe(l3);
    expect(l2?.parentIndex).toBe(4);
  });

  it('knows a table first seen as an old_spte from that moment, and what it did not see', () => {
    // The trace starts with a zap of a 2M table it never saw built: the L2 table (PFN 0x10002) is
    // implied by the L3 entry's old value; its entries stay unknown.
    const r = rebuild(
      'kvm_tdp_mmu_spte_changed: as id 0 gfn 100000 level 3 old_spte 10002907 new_spte 0',
    );
    const m = new Mirror();
    m.seek(r.kvm.log, r.kvm.log.length);
    const sps = m.sps.filter((sp) => !sp.freed);
    expect(sps.map((sp) => [sp.level, sp.unknown === null ? 'known' : 'implied'])).toEqual([
      [4, 'implied'],
      [3, 'implied'],
    ]);
    const l3 = m.sps[1];
    expect(l3?.unknown?.[4]).toBe(0);
    expect(l3?.unknown?.[5]).toBe(1);
    expect(m.sps[2]).toMatchObject({ level: 2, freed: true, linked: false });
    // The words say what the trace showed and what was inferred, and claim nothing else.
    const words = (i: number) => explainEvent(decodeEvent(r.kvm.log, i, (id) => r.kvm.sp(id)));
    const all = Array.from({ length: r.kvm.log.length }, (_, i) => words(i));
    expect(all[0]).toBe(
      "an imported trace: SPTEs as kernel before 6.10 encodes them, 4-level TDP; the VM's settings are not in the trace",
    );
    expect(all).toContain('sp 1 was already linked when the trace began');
    expect(all.some((w) => w.startsWith('tdp_mmu_link_sp()'))).toBe(false);
    const seenAt = all.findIndex((w) => w.startsWith('first seen in the trace'));
    const seen = decodeEvent(r.kvm.log, seenAt, (id) => r.kvm.sp(id));
    if (seen.type !== 'spteChanged') throw new Error('not a change');
    expect(changeCallout(seen)).toEqual({
      where: 'sp 1[4] · L3 · first seen',
      change: 'unknown → non-leaf',
      detail: '0x10002907',
    });
    expect(stepSentence(seen)).toBe(
      'first seen in the trace (its old_spte): table sp 1, index 4, level 3, gfn 0x100000 held non-leaf 0x10002907',
    );
    // The L3 table is still linked (somewhere in a root the trace has not shown mapping anything).
    expect(r.summary()).toMatchObject({ tables: 1, roots: 0, inferred_tables: 3 });
  });

  it('uses the 6.10+ encodings: SHADOW_NONPRESENT_VALUE, FROZEN_SPTE and the untraced unfreeze', () => {
    const r = rebuild(
      [
        'kvm_tdp_mmu_spte_changed: as id 0 gfn 200 level 1 old_spte 8000000000000000 new_spte 8600004000200b77',
        'kvm_tdp_mmu_spte_changed: as id 0 gfn 200 level 1 old_spte 8600004000200b77 new_spte 80000000000005a0',
      ].join('\n'),
    );
    expect(r.summary()).toMatchObject({ kernel: '6.18', leaves: { '4k': 0 }, mismatches: 0 });
    const l1 = r.liveTables().find((sp) => sp.level === 1);
    // The freeze is traced; the non-present store after it is implied.
    expect(toBig(l1?.spt[0] ?? 0, l1?.spt[1] ?? 0)).toBe(0x8000000000000000n);
  });

  it('splits a huge leaf into the children make_huge_page_split_spte() computes', () => {
    const r = rebuild(
      [
        'kvm_tdp_mmu_spte_changed: as id 0 gfn 100000 level 2 old_spte 0 new_spte 600004040000bf3',
        'kvm_tdp_mmu_spte_changed: as id 0 gfn 100000 level 2 old_spte 600004040000bf3 new_spte 10009907',
      ].join('\n'),
    );
    expect(r.summary().leaves).toEqual({ '4k': 512, '2m': 0, '1g': 0 });
    const l1 = r.liveTables().find((sp) => sp.level === 1);
    // Bit 7 gone, executable again at 4K, PFN + index.
    expect(toBig(l1?.spt[2 * 3] ?? 0, l1?.spt[2 * 3 + 1] ?? 0)).toBe(0x600004040003b77n);
  });

  it('takes the table kvm_mmu_set_spte names by address, and marks the structure after a loss', () => {
    const r = rebuild(
      [
        'x-9 [000] 1.1: kvm_tdp_mmu_spte_changed: as id 0 gfn 201 level 1 old_spte 0 new_spte 600004000201b77',
        'x-9 [000] 1.2: kvm_mmu_set_spte: gfn 201 spte 600004000201b77 (rwx) level 1 at 123456008',
        'CPU:0 [LOST 3 EVENTS]',
        'x-9 [000] 1.3: kvm_tdp_mmu_spte_changed: as id 0 gfn 2 level 2 old_spte 123456907 new_spte 0',
      ].join('\n'),
    );
    expect(r.spans[1]?.note).toBe('sp 3 is the table at PFN 123456');
    // The zap at L2 names PFN 0x123456: the very table the leaf went into.
    const m = new Mirror();
    m.seek(r.kvm.log, r.kvm.log.length);
    expect(m.sps[3]).toMatchObject({ level: 1, freed: true });
    expect(m.lostEvents).toBe(3);
    expect(r.summary()).toMatchObject({ lost_events: 3, leaves: { '4k': 0 } });
  });

  it('chooses between roots by what their entries held, and says when several fit', () => {
    const r = rebuild(
      [
        'kvm_tdp_mmu_spte_changed: as id 0 gfn 0 level 4 old_spte 0 new_spte 10001907',
        // Entry 0 of the root now points at 0x10001: a change from 0 there is another root's.
        'kvm_tdp_mmu_spte_changed: as id 0 gfn 0 level 4 old_spte 0 new_spte 10005907',
        'kvm_tdp_mmu_spte_changed: as id 0 gfn 8000000 level 4 old_spte 0 new_spte 10006907',
      ].join('\n'),
    );
    const roots = r.liveTables().filter((sp) => sp.isRoot);
    expect(roots).toHaveLength(2);
    expect(r.summary()).toMatchObject({ roots: 2, ambiguous: 1 });
    expect(r.spans[2]?.note).toMatch(/^2 tables fit this change/);
  });

  it('steps back to the start through everything a trace implies', () => {
    const text = tracepointText(runPreset('shatter.tdp').kvm);
    const r = rebuild(text);
    const m = new Mirror();
    m.seek(r.kvm.log, r.kvm.log.length);
    m.seek(r.kvm.log, 0);
    expect(m.stats()).toEqual({ pages_4k: 0, pages_2m: 0, pages_1g: 0, nx_lpage_splits: 0 });
    expect(m.sps.filter((sp) => sp.linked)).toEqual([]);
  });
});

function runPreset(file: string) {
  const text = readFileSync(join('public/presets', file), 'utf8');
  return runStatements(parseScenario(text).statements, new Simulator()).sim;
}

describe('our own tracepoint text imports back', () => {
  for (const p of PRESETS) {
    it(`${p.file}: the same final tables and leaves as running it`, () => {
      const sim = runPreset(p.file);
      const r = rebuild(tracepointText(sim.kvm));
      expect(shape(r.liveTables())).toEqual(shape(reachable(sim.kvm)));
    });
  }
});

describe('any trace, however damaged, rebuilds without throwing and steps back to nothing', () => {
  const texts = PRESETS.map((p) => tracepointText(runPreset(p.file).kvm).split('\n'));
  const mutation = fc.oneof(
    fc.record({ op: fc.constant('drop' as const), at: fc.nat() }),
    fc.record({ op: fc.constant('swap' as const), at: fc.nat(), with: fc.nat() }),
    fc.record({
      op: fc.constant('digit' as const),
      at: fc.nat(),
      pos: fc.nat(),
      digit: fc.constantFrom(...'0123456789abcdefx '.split('')),
    }),
    fc.record({ op: fc.constant('cut' as const), at: fc.nat(), pos: fc.nat() }),
    fc.record({ op: fc.constant('lost' as const), at: fc.nat() }),
  );
  it('holds for random drops, swaps, digit flips, cut lines and lost-event markers', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: texts.length - 1 }),
        fc.array(mutation, { maxLength: 12 }),
        (which, muts) => {
          const lines = [...(texts[which] ?? [])];
          for (const m of muts) {
            const i = m.at % Math.max(1, lines.length);
            const l = lines[i] ?? '';
            if (m.op === 'drop') lines.splice(i, 1);
            else if (m.op === 'swap') {
              const j = m.with % Math.max(1, lines.length);
              lines[i] = lines[j] ?? '';
              lines[j] = l;
            } else if (m.op === 'digit') {
              const p = m.pos % Math.max(1, l.length);
              lines[i] = l.slice(0, p) + m.digit + l.slice(p + 1);
            } else if (m.op === 'cut') lines[i] = l.slice(0, m.pos % Math.max(1, l.length));
            else lines.splice(i, 0, 'CPU:0 [LOST 5 EVENTS]');
          }
          const r = rebuild(lines.join('\n'));
          const s = r.summary();
          expect(s.spte_changes).toBeLessThanOrEqual(lines.length);
          const m = new Mirror();
          m.seek(r.kvm.log, r.kvm.log.length);
          m.seek(r.kvm.log, 0);
          expect(m.stats()).toEqual({ pages_4k: 0, pages_2m: 0, pages_1g: 0, nx_lpage_splits: 0 });
          expect(m.counters.spte_writes).toBe(0);
          expect(m.lostEvents).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
