// Compare mode's arithmetic: the two scripts, the costs each pane has paid up to its cursor, and
// one sentence that says what differed and why.
import { opArgs } from '../sim/events.ts';
import type { Counters, ZapStrategy } from '../sim/names.ts';
import type { KernelId } from '../sim/profile.ts';
import { tallyOp, type OpTally, type RecoveryPick } from '../sim/outcome.ts';
import { profileOf } from '../sim/profile.ts';
import { toBig } from '../sim/spte.ts';
import type { Statement } from '../sim/scenario/ast.ts';
import {
  formatStatement,
  kernelOfScript,
  parseScenario,
  scriptKernel,
} from '../sim/scenario/parse.ts';
import { looksLikeTrace } from '../sim/trace/read-trace.ts';
import type { Session } from './session.ts';

/**
 * The script with every recover_nx and zap_sp using `strategy`; other lines untouched. The expects
 * after the first rewritten statement become comments: their numbers were written for the script
 * as it was, so in a derived pane they would fail for no fault of the user's.
 */
export function withStrategy(script: string, strategy: ZapStrategy): string {
  const parsed = parseScenario(script);
  if (parsed.errors.length > 0) return script;
  const lines = script.split('\n');
  let firstChanged = Infinity;
  for (const st of parsed.statements) {
    if (st.kind === 'expect' && st.line > firstChanged) {
      lines[st.line - 1] =
        `# ${lines[st.line - 1] ?? ''}  (off in compare: written for the original)`;
      continue;
    }
    if ((st.kind !== 'recover_nx' && st.kind !== 'zap_sp') || st.strategy === strategy) continue;
    const old = lines[st.line - 1] ?? '';
    const comment = old.indexOf('#');
    const tail = comment >= 0 ? '  ' + old.slice(comment) : '';
    lines[st.line - 1] = formatStatement({ ...st, strategy }) + tail;
    firstChanged = Math.min(firstChanged, st.line);
  }
  return lines.join('\n');
}

/**
 * The script with its VM on `kernel`: the kernel= of the vm statement that opens the script is set
 * (or added), or a `vm kernel=` line goes in before the first statement. Other lines are untouched.
 */
export function withKernel(script: string, kernel: KernelId): string {
  // A trace was recorded on one kernel: its text is what that kernel printed, left as it is.
  if (looksLikeTrace(script)) return script;
  const parsed = parseScenario(script);
  const lines = script.split('\n');
  const first = parsed.statements[0];
  const vm = parsed.statements.find(
    (st) =>
      st.kind === 'vm' && parsed.statements.every((o) => o.line >= st.line || o.kind === 'vm'),
  );
  if (vm) {
    const old = lines[vm.line - 1] ?? '';
    lines[vm.line - 1] = /\bkernel=\S*/.test(old)
      ? old.replace(/\bkernel=\S*/, `kernel=${kernel}`)
      : old.replace(/^(\s*vm)\b/, `$1 kernel=${kernel}`);
    return lines.join('\n');
  }
  // Before the first statement; an empty script gets the line at its top.
  const at = first ? first.line - 1 : script.trim() === '' ? 0 : lines.length;
  lines.splice(at, 0, `vm kernel=${kernel}`);
  return lines.join('\n');
}

/** What Compare puts side by side: two zap strategies on one kernel, or one script on two kernels. */
export type CompareHow =
  { by: 'strategy'; a: ZapStrategy; b: ZapStrategy } | { by: 'kernel'; a: KernelId; b: KernelId };

export const COMPARE_CHOICES: readonly { id: string; label: string; how: CompareHow }[] = [
  {
    id: 'walk-direct',
    label: 'zap: walk (5.16) vs direct (5.18)',
    how: { by: 'strategy', a: 'walk', b: 'direct' },
  },
  {
    id: 'direct-atomic',
    label: 'zap: direct (5.18) vs atomic (6.18)',
    how: { by: 'strategy', a: 'direct', b: 'atomic' },
  },
  { id: '5.18-6.18', label: 'kernel: 5.18 vs 6.18', how: { by: 'kernel', a: '5.18', b: '6.18' } },
  { id: '5.16-5.18', label: 'kernel: 5.16 vs 5.18', how: { by: 'kernel', a: '5.16', b: '5.18' } },
  { id: '5.16-6.18', label: 'kernel: 5.16 vs 6.18', how: { by: 'kernel', a: '5.16', b: '6.18' } },
];
export const DEFAULT_COMPARE = 'walk-direct';

export const compareChoice = (id: string) =>
  COMPARE_CHOICES.find((c) => c.id === id) ?? COMPARE_CHOICES[0]!;

/**
 * Compare mode's two scripts from the Explore script, which itself is never changed. By strategy,
 * a script with no zap_sp / recover_nx shows in both panes unchanged (`changed` false). By kernel,
 * each pane's VM runs its kernel, and every zap keeps what the script says (or its kernel's own).
 */
export function deriveComparison(
  script: string,
  how: CompareHow = compareChoice(DEFAULT_COMPARE).how,
): { a: string; b: string; changed: boolean } {
  if (how.by === 'kernel') {
    const a = withKernel(script, how.a);
    const b = withKernel(script, how.b);
    return { a: offExpects(script, a), b: offExpects(script, b), changed: true };
  }
  if (!hasStrategyStatements(script)) return { a: script, b: script, changed: false };
  return { a: withStrategy(script, how.a), b: withStrategy(script, how.b), changed: true };
}

/**
 * Turn the expects of a kernel-derived script into comments when its kernel differs from the
 * script's own: their numbers were written for that kernel.
 */
function offExpects(original: string, derived: string): string {
  const was = kernelOfScript(original);
  const now = kernelOfScript(derived);
  if (was === now) return derived;
  return derived
    .split('\n')
    .map((l) =>
      /^\s*expect\b/.test(l) ? `# ${l}  (off in compare: written for kernel ${was})` : l,
    )
    .join('\n');
}

/** The one strategy every recover_nx / zap_sp of the script uses (null: none, or a mix). */
export function scriptStrategy(script: string): ZapStrategy | null {
  // A trace is not parsed as a scenario (it may be a hundred MiB): it names no strategy.
  if (looksLikeTrace(script)) return null;
  const used = new Set<ZapStrategy>();
  const statements = parseScenario(script).statements;
  const p = profileOf(scriptKernel(statements));
  for (const st of statements) {
    if (st.kind === 'recover_nx' || st.kind === 'zap_sp') used.add(st.strategy ?? p.zapStrategy);
  }
  const [only] = used;
  return used.size === 1 && only ? only : null;
}

/** Whether the script has anything a strategy changes. */
export function hasStrategyStatements(script: string): boolean {
  if (looksLikeTrace(script)) return false;
  return parseScenario(script).statements.some(
    (st) => st.kind === 'recover_nx' || st.kind === 'zap_sp',
  );
}

/**
 * How two scripts relate: the same, the same statements but for zap strategies, the same but for the
 * kernel (strategies may differ too), or unrelated.
 */
export type ScriptRelation =
  | { kind: 'same' }
  | { kind: 'strategies' }
  | { kind: 'kernels' }
  | { kind: 'unrelated'; lineA: number | null; lineB: number | null };

/** Statements that run, without strategies, kernels and expects: what both panes must share. */
function skeleton(script: string): { line: number; text: string }[] | null {
  if (looksLikeTrace(script)) return null;
  const parsed = parseScenario(script);
  if (parsed.errors.length > 0) return null;
  return parsed.statements
    .filter((st) => st.kind !== 'expect' && !(st.kind === 'vm' && onlyKernel(st)))
    .map((st) => {
      const bare =
        st.kind === 'recover_nx' || st.kind === 'zap_sp'
          ? { ...st, strategy: undefined }
          : st.kind === 'vm'
            ? { ...st, kernel: undefined }
            : st;
      return { line: st.line, text: formatStatement(bare) };
    });
}

/** A `vm kernel=…` line that sets nothing else. */
function onlyKernel(st: Extract<Statement, { kind: 'vm' }>): boolean {
  return [st.levels, st.nxHugePages, st.recoveryRatio, st.physBits].every((v) => v === undefined);
}

export function scriptRelation(a: string, b: string): ScriptRelation {
  if (a === b) return { kind: 'same' };
  const sa = skeleton(a);
  const sb = skeleton(b);
  if (!sa || !sb) return { kind: 'unrelated', lineA: null, lineB: null };
  const n = Math.max(sa.length, sb.length);
  for (let i = 0; i < n; i++) {
    if (sa[i]?.text === sb[i]?.text) continue;
    return { kind: 'unrelated', lineA: sa[i]?.line ?? null, lineB: sb[i]?.line ?? null };
  }
  const ka = kernelOfScript(a);
  const kb = kernelOfScript(b);
  return ka === kb ? { kind: 'strategies' } : { kind: 'kernels' };
}

/** The `key=value` words of a line that the other line does not have. */
function wordsOnlyIn(line: string, other: string): string[] {
  const code = (l: string) => (l.split('#')[0] ?? '').trim().split(/\s+/);
  const theirs = new Set(code(other));
  return code(line).filter((w) => w !== '' && !theirs.has(w));
}

/** The hint under the editors: how script B differs from script A, line by line. */
export function describeDifference(a: string, b: string): string {
  if (a === b) return 'Both scripts are the same: both panes will match.';
  const ta = looksLikeTrace(a);
  const tb = looksLikeTrace(b);
  if (ta || tb) {
    return ta && tb
      ? 'The panes hold two different traces: they compare two different runs.'
      : `Pane ${ta ? 'A' : 'B'} holds an imported trace and pane ${ta ? 'B' : 'A'} a scenario: they compare two different runs.`;
  }
  const la = a.split('\n');
  const lb = b.split('\n');
  const differing: number[] = [];
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if ((la[i] ?? '') !== (lb[i] ?? '')) differing.push(i + 1);
  }
  const rel = scriptRelation(a, b);
  if (rel.kind === 'unrelated') {
    const where =
      rel.lineA !== null || rel.lineB !== null
        ? ` from line ${rel.lineA ?? '(end)'} of A and line ${rel.lineB ?? '(end)'} of B on`
        : '';
    return `The scripts run different statements${where}: the panes compare two different runs.`;
  }
  const shown = differing.slice(0, 3).map((n) => {
    const from = wordsOnlyIn(la[n - 1] ?? '', lb[n - 1] ?? '');
    const to = wordsOnlyIn(lb[n - 1] ?? '', la[n - 1] ?? '');
    if (from.length === 0 && to.length === 0) return `line ${n}: comments or an expect`;
    if ((lb[n - 1] ?? '').startsWith('# expect') || (la[n - 1] ?? '').startsWith('# expect'))
      return `line ${n}: an expect is off in one pane`;
    return `line ${n}: ${from.join(' ') || '—'} → ${to.join(' ') || '—'}`;
  });
  const more = differing.length > 3 ? `; and ${differing.length - 3} more lines` : '';
  const count = differing.length === 1 ? 'one line' : `${differing.length} lines`;
  return `B differs from A on ${count} (${shown.join('; ')}${more}).`;
}

export interface PaneMetrics {
  counters: Counters;
  nxLpageSplits: number;
  /** Roots whose SPTEs a zap_sp / recover_nx read by walking or wrote, up to the cursor. */
  rootsVisited: number;
  /** The strategies the zap_sp / recover_nx operations up to the cursor used. */
  strategies: ZapStrategy[];
  /** Zaps that walked the GFN range from the roots (each walking zap_sp or recovery pick). */
  walks: number;
  /** Zaps that read *sp->ptep (each direct or atomic zap_sp or recovery pick). */
  ptepZaps: number;
  /** Of those, the ones under the read lock with a cmpxchg (6.18's). */
  atomicZaps: number;
  /** REMOVED / FROZEN values the zaps wrote, by teardown mode (shared: all 512 per table). */
  frozenShared: number;
  frozenExclusive: number;
  /** The kernel the pane's VM runs. */
  kernel: KernelId;
  /** Recovery picks whose sp stayed accounted because the zap did not reach it. */
  unreached: RecoveryPick[];
}

/** Tallies of operations the cursor has passed, per run (a new run has a new mirror). */
const passed = new WeakMap<object, Map<number, OpTally>>();

/** An operation's tally up to `end`; one the cursor is past is decoded once, not every frame. */
function tallyUpTo(session: Session, first: number, end: number, complete: boolean): OpTally {
  if (!complete) return tallyOp(session.events, session.events.spOf, first, end);
  let runTallies = passed.get(session.mirror);
  if (!runTallies) passed.set(session.mirror, (runTallies = new Map<number, OpTally>()));
  let t = runTallies.get(first);
  if (!t) runTallies.set(first, (t = tallyOp(session.events, session.events.spOf, first, end)));
  return t;
}

export function paneMetrics(session: Session): PaneMetrics {
  const m = session.mirror;
  const roots = new Set<number>();
  const strategies = new Set<ZapStrategy>();
  let walks = 0;
  let ptepZaps = 0;
  let atomicZaps = 0;
  let frozenShared = 0;
  let frozenExclusive = 0;
  const unreached: RecoveryPick[] = [];
  const { statements, script } = session.store.getState();
  for (const st of statements) {
    if (st.kind !== 'recover_nx' && st.kind !== 'zap_sp') continue;
    const end = Math.min(st.endEvent, m.cursor);
    if (end <= st.firstEvent) continue;
    const t = tallyUpTo(session, st.firstEvent, end, end === st.endEvent);
    const strategy = t.begin ? opArgs(t.begin.op, t.begin.c).strategy : undefined;
    if (!strategy) continue;
    strategies.add(strategy);
    for (const r of t.rootsVisited) roots.add(r);
    const zaps = st.kind === 'zap_sp' ? 1 : t.picks.length;
    if (strategy === 'walk') walks += zaps;
    else ptepZaps += zaps;
    if (strategy === 'atomic') atomicZaps += zaps;
    frozenShared += t.frozenShared;
    frozenExclusive += t.frozenExclusive;
    unreached.push(...t.picks.filter((p) => p.stillListed));
  }
  return {
    counters: { ...m.counters },
    nxLpageSplits: m.nxLpageSplits,
    rootsVisited: roots.size,
    strategies: [...strategies],
    walks,
    ptepZaps,
    atomicZaps,
    frozenShared,
    frozenExclusive,
    kernel: kernelOfScript(script),
    unreached,
  };
}

/**
 * Whether both mirrors hold the same live tables with the same SPTEs; with `ignoreBit63`, the high
 * bit (6.10's SHADOW_NONPRESENT_VALUE and suppress-#VE) is left out of the comparison.
 */
export function sameTables(a: Session, b: Session, ignoreBit63 = false): boolean {
  return paneDifferences(a.mirror, b.mirror, ignoreBit63, 1).length === 0;
}

/** One entry that differs between the panes' live tables, or a table only one pane has. */
export type PaneDifference =
  | {
      kind: 'entry';
      spA: number;
      spB: number;
      index: number;
      level: number;
      a: bigint;
      b: bigint;
    }
  | { kind: 'only'; pane: 'A' | 'B'; sp: number; gfn: number; level: number };

/**
 * The live tables of the two mirrors matched by (root's place on tdp_mmu_roots, gfn, level) — the
 * panes number their tables on their own — and, for each pair, the entries that differ (with
 * `ignoreBit63`, bit 63 is left out). Tables only one pane has are listed as such.
 */
export function paneDifferences(
  a: Session['mirror'],
  b: Session['mirror'],
  ignoreBit63 = false,
  /** Stop after this many (sameTables() needs one). */
  limit = Infinity,
): PaneDifference[] {
  const keyed = (m: Session['mirror']) => {
    const rootPlace = new Map(m.roots().map((r, k) => [r.id, k]));
    const out = new Map<string, (typeof m.sps)[number]>();
    for (const sp of m.sps) {
      if (!sp.linked) continue;
      out.set(`${rootPlace.get(sp.rootId) ?? -1}:${sp.gfn}:${sp.level}`, sp);
    }
    return out;
  };
  const ka = keyed(a);
  const kb = keyed(b);
  const mask = ignoreBit63 ? 0x7fffffff : 0xffffffff;
  const out: PaneDifference[] = [];
  for (const [key, sa] of ka) {
    const sb = kb.get(key);
    if (out.length >= limit) return out;
    if (!sb) {
      out.push({ kind: 'only', pane: 'A', sp: sa.id, gfn: sa.gfn, level: sa.level });
      continue;
    }
    for (let i = 0; i < 512; i++) {
      const la = sa.spt[2 * i] ?? 0;
      const ha = sa.spt[2 * i + 1] ?? 0;
      const lb = sb.spt[2 * i] ?? 0;
      const hb = sb.spt[2 * i + 1] ?? 0;
      if (la === lb && (ha & mask) === (hb & mask)) continue;
      if (out.length >= limit) return out;
      out.push({
        kind: 'entry',
        spA: sa.id,
        spB: sb.id,
        index: i,
        level: sa.level,
        a: toBig(la, ha),
        b: toBig(lb, hb),
      });
    }
  }
  for (const [key, sb] of kb) {
    if (out.length >= limit) return out;
    if (!ka.has(key))
      out.push({ kind: 'only', pane: 'B', sp: sb.id, gfn: sb.gfn, level: sb.level });
  }
  return out;
}

const n = (v: number) => v.toLocaleString('en-US');

/**
 * A pane's name: its kernel when the panes run different kernels, and its strategy only when every
 * zap it ran so far used that one.
 */
export function paneLabel(pane: 'A' | 'B', m: PaneMetrics, other?: PaneMetrics): string {
  const [only] = m.strategies;
  const words = [
    ...(other && other.kernel !== m.kernel ? [m.kernel] : []),
    ...(m.strategies.length === 1 && only ? [only] : []),
  ];
  return words.length > 0 ? `${pane} (${words.join(' ')})` : pane;
}

/**
 * What differed between the panes, in plain sentences built only from what was measured: a
 * cause is named only when both runs show it (one pane walked, the other read sp->ptep).
 */
export function compareSentence(
  a: PaneMetrics,
  b: PaneMetrics,
  same: boolean,
  refaults: [number | null, number | null],
  relation: ScriptRelation,
  /** The tables are the same but for bit 63 (panes on kernels with different encodings). */
  sameButBit63 = false,
): string {
  const la = paneLabel('A', a, b);
  const lb = paneLabel('B', b, a);
  const parts: string[] = [];
  if (relation.kind === 'unrelated') {
    parts.push(
      'The scripts are unrelated: they run different statements, so these numbers compare two different runs, not two strategies.',
    );
  }
  // Teardown modes as measured: shared exchanges all 512 entries, exclusive reads them.
  const sharedOnly = (x: PaneMetrics) => x.frozenShared > 0 && x.frozenExclusive === 0;
  const exclusiveOnly = (x: PaneMetrics) => x.frozenExclusive > 0 && x.frozenShared === 0;
  const onlyWalks = (x: PaneMetrics) => x.walks > 0 && x.ptepZaps === 0;
  const onlyPtep = (x: PaneMetrics) => x.ptepZaps > 0 && x.walks === 0;
  const related = relation.kind !== 'unrelated';
  const more = (
    get: (c: Counters) => number,
    what: string,
    cause: (m: PaneMetrics, l: PaneMetrics, lessLabel: string, moreLabel: string) => string,
  ) => {
    const x = get(a.counters);
    const y = get(b.counters);
    if (x === y) return;
    const [ml, ll, mm, lm] = x > y ? [la, lb, a, b] : [lb, la, b, a];
    const why = related ? cause(mm, lm, ll, ml) : '';
    parts.push(
      `${ml} ${what.replace('N', n(Math.abs(x - y)))} than ${ll} (${n(Math.max(x, y))} vs ${n(Math.min(x, y))})${why}.`,
    );
  };
  more(
    (c) => c.spte_reads,
    'read N more SPTEs',
    (m, l, ll, ml) =>
      onlyWalks(m) && onlyPtep(l)
        ? `: its zaps walked the GFN range from the roots (${n(m.counters.iter_steps)} iterator visits in all) where ${ll} read *sp->ptep (${n(l.ptepZaps)} ${l.ptepZaps === 1 ? 'zap' : 'zaps'})`
        : exclusiveOnly(m) && sharedOnly(l)
          ? `; ${ml}'s teardowns ran exclusive, reading each of a removed table's 512 entries, where ${ll}'s ran shared and exchanged them without reading`
          : '',
  );
  more(
    (c) => c.spte_writes,
    'wrote N more SPTEs',
    (m, l, ll, ml) =>
      sharedOnly(m) && exclusiveOnly(l)
        ? `; ${ml}'s zaps froze all 512 entries of each removed table (${n(m.frozenShared)} frozen ${m.frozenShared === 1 ? 'value' : 'values'} written) where ${ll}'s froze only the present ones (${n(l.frozenExclusive)})`
        : '',
  );
  more(
    (c) => c.spte_atomic,
    'made N more atomic writes (cmpxchg or xchg)',
    (m, l, _ll, ml) =>
      m.atomicZaps > 0 && l.atomicZaps === 0
        ? `; ${ml}'s zaps ran under mmu_lock held for read, where every change is a cmpxchg or xchg`
        : '',
  );
  more(
    (c) => c.tlb_flushes_ranged,
    'issued N more ranged TLB flushes',
    (m, l) =>
      onlyWalks(m) && onlyPtep(l) && m.counters.sp_freed > 0
        ? ': on the walk path the 5.16 handler flushes each removed table’s range'
        : '',
  );
  more(
    (c) => c.tlb_flushes_full,
    'issued N more full TLB flushes',
    () => '',
  );
  if (same) {
    parts.push('Both leave identical tables.');
  } else if (sameButBit63) {
    parts.push(
      'Both leave the same tables but for bit 63, which 6.10+ sets in non-present (SHADOW_NONPRESENT_VALUE) and present SPTEs (suppress #VE).',
    );
  } else if (a.nxLpageSplits !== b.nxLpageSplits) {
    const [ml, ll, mm, lm] = a.nxLpageSplits > b.nxLpageSplits ? [la, lb, a, b] : [lb, la, b, a];
    const d = mm.nxLpageSplits - lm.nxLpageSplits;
    const missed = related ? mm.unreached.filter((p) => p.rootInvalid) : [];
    const ids = [...new Set(missed.map((p) => `sp ${p.sp} (under invalid root sp ${p.root})`))];
    const why = ids.length > 0 ? `: ${ml}'s recovery could not reach ${ids.join(', ')}` : '';
    parts.push(
      `The tables differ: ${ml} has ${n(d)} more NX-accounted ${d === 1 ? 'table' : 'tables'} than ${ll} (nx_lpage_splits ${n(mm.nxLpageSplits)} vs ${n(lm.nxLpageSplits)})${why}.`,
    );
  } else {
    parts.push('The tables differ.');
  }
  const [ra, rb] = refaults;
  if (ra !== null && rb !== null && ra !== rb) {
    parts.push(
      `Touching the same pages again takes ${n(ra)} faults after ${la} and ${n(rb)} after ${lb}.`,
    );
  }
  if (parts.length === 1 && same) return `No difference in cost so far. ${parts[0]}`;
  return parts.join(' ');
}
