// Compare mode's arithmetic: the two scripts, the costs each pane has paid up to its cursor, and
// one sentence that says what differed and why.
import { opArgs } from '../sim/events.ts';
import type { Counters, ZapStrategy } from '../sim/names.ts';
import { tallyOp, type OpTally, type RecoveryPick } from '../sim/outcome.ts';
import { profileOf } from '../sim/profile.ts';
import { formatStatement, parseScenario, scriptKernel } from '../sim/scenario/parse.ts';
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

/** Compare mode's two scripts from the Explore script, which itself is never changed. */
export function deriveComparison(script: string): { a: string; b: string; strategies: boolean } {
  if (!hasStrategyStatements(script)) return { a: script, b: script, strategies: false };
  return { a: withStrategy(script, 'walk'), b: withStrategy(script, 'direct'), strategies: true };
}

/** The one strategy every recover_nx / zap_sp of the script uses (null: none, or a mix). */
export function scriptStrategy(script: string): ZapStrategy | null {
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
  return parseScenario(script).statements.some(
    (st) => st.kind === 'recover_nx' || st.kind === 'zap_sp',
  );
}

/** How two scripts relate: the same, the same statements but for strategies, or unrelated. */
export type ScriptRelation =
  | { kind: 'same' }
  | { kind: 'strategies' }
  | { kind: 'unrelated'; lineA: number | null; lineB: number | null };

/** Statements that run, with strategies and expects left out: what both panes must share. */
function skeleton(script: string): { line: number; text: string }[] | null {
  const parsed = parseScenario(script);
  if (parsed.errors.length > 0) return null;
  return parsed.statements
    .filter((st) => st.kind !== 'expect')
    .map((st) => ({
      line: st.line,
      text:
        st.kind === 'recover_nx' || st.kind === 'zap_sp'
          ? formatStatement({ ...st, strategy: 'direct' })
          : formatStatement(st),
    }));
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
  return { kind: 'strategies' };
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
  /** Zaps that read *sp->ptep (each direct zap_sp or recovery pick). */
  ptepZaps: number;
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
  const unreached: RecoveryPick[] = [];
  const { statements } = session.store.getState();
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
    unreached.push(...t.picks.filter((p) => p.stillListed));
  }
  return {
    counters: { ...m.counters },
    nxLpageSplits: m.nxLpageSplits,
    rootsVisited: roots.size,
    strategies: [...strategies],
    walks,
    ptepZaps,
    unreached,
  };
}

/** Whether both mirrors hold the same live tables with the same SPTEs. */
export function sameTables(a: Session, b: Session): boolean {
  const live = (s: Session) => s.mirror.sps.filter((sp) => sp.linked);
  const la = live(a);
  const lb = live(b);
  if (la.length !== lb.length) return false;
  return la.every((sp, k) => {
    const other = lb[k];
    if (!other || other.gfn !== sp.gfn || other.level !== sp.level) return false;
    for (let i = 0; i < 1024; i++) if (sp.spt[i] !== other.spt[i]) return false;
    return true;
  });
}

const n = (v: number) => v.toLocaleString('en-US');

/** A pane's name, with its strategy only when every zap it ran so far used that one. */
export function paneLabel(pane: 'A' | 'B', m: PaneMetrics): string {
  const [only] = m.strategies;
  return m.strategies.length === 1 && only ? `${pane} (${only})` : pane;
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
): string {
  const la = paneLabel('A', a);
  const lb = paneLabel('B', b);
  const parts: string[] = [];
  if (relation.kind === 'unrelated') {
    parts.push(
      'The scripts are unrelated: they run different statements, so these numbers compare two different runs, not two strategies.',
    );
  }
  const onlyWalks = (x: PaneMetrics) => x.walks > 0 && x.ptepZaps === 0;
  const onlyPtep = (x: PaneMetrics) => x.ptepZaps > 0 && x.walks === 0;
  const related = relation.kind !== 'unrelated';
  const more = (
    get: (c: Counters) => number,
    what: string,
    cause: (m: PaneMetrics, l: PaneMetrics, lessLabel: string) => string,
  ) => {
    const x = get(a.counters);
    const y = get(b.counters);
    if (x === y) return;
    const [ml, ll, mm, lm] = x > y ? [la, lb, a, b] : [lb, la, b, a];
    const why = related ? cause(mm, lm, ll) : '';
    parts.push(
      `${ml} ${what.replace('N', n(Math.abs(x - y)))} than ${ll} (${n(Math.max(x, y))} vs ${n(Math.min(x, y))})${why}.`,
    );
  };
  more(
    (c) => c.spte_reads,
    'read N more SPTEs',
    (m, l, ll) =>
      onlyWalks(m) && onlyPtep(l)
        ? `: its zaps walked the GFN range from the roots (${n(m.counters.iter_steps)} iterator visits in all) where ${ll} read *sp->ptep (${n(l.ptepZaps)} ${l.ptepZaps === 1 ? 'zap' : 'zaps'})`
        : '',
  );
  more(
    (c) => c.spte_writes,
    'wrote N more SPTEs',
    () => '',
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
