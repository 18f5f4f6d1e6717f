// Compare mode's arithmetic: the two scripts, the costs each pane has paid up to its cursor, and
// one sentence that says what differed and why.
import { EV } from '../sim/event-log.ts';
import type { Counters, ZapStrategy } from '../sim/names.ts';
import { formatStatement, parseScenario } from '../sim/scenario/parse.ts';
import type { Session } from './session.ts';

/** The script with every recover_nx and zap_sp statement using `strategy`; other lines untouched. */
export function withStrategy(script: string, strategy: ZapStrategy): string {
  const parsed = parseScenario(script);
  if (parsed.errors.length > 0) return script;
  const lines = script.split('\n');
  for (const st of parsed.statements) {
    if (st.kind !== 'recover_nx' && st.kind !== 'zap_sp') continue;
    const old = lines[st.line - 1] ?? '';
    const comment = old.indexOf('#');
    const tail = comment >= 0 ? '  ' + old.slice(comment) : '';
    lines[st.line - 1] = formatStatement({ ...st, strategy }) + tail;
  }
  return lines.join('\n');
}

/** The strategy a script's first recover_nx / zap_sp uses, for the pane's title. */
export function scriptStrategy(script: string): ZapStrategy | null {
  for (const st of parseScenario(script).statements) {
    if (st.kind === 'recover_nx' || st.kind === 'zap_sp') return st.strategy;
  }
  return null;
}

/** Whether the script has anything a strategy changes. */
export function hasStrategyStatements(script: string): boolean {
  return parseScenario(script).statements.some(
    (st) => st.kind === 'recover_nx' || st.kind === 'zap_sp',
  );
}

export interface PaneMetrics {
  counters: Counters;
  nxLpageSplits: number;
  /** Roots whose SPTEs a zap_sp / recover_nx read by walking or wrote, up to the cursor. */
  rootsVisited: number;
}

export function paneMetrics(session: Session): PaneMetrics {
  const m = session.mirror;
  const roots = new Set<number>();
  const { statements } = session.store.getState();
  for (const st of statements) {
    if (st.kind !== 'recover_nx' && st.kind !== 'zap_sp') continue;
    const end = Math.min(st.endEvent, m.cursor);
    for (let i = st.firstEvent; i < end; i++) {
      const kind = session.events.word(i, 0) & 0xff;
      if (kind !== EV.iterStep && kind !== EV.spteChanged) continue;
      roots.add(session.events.spOf(session.events.word(i, 1)).rootId);
    }
  }
  return { counters: { ...m.counters }, nxLpageSplits: m.nxLpageSplits, rootsVisited: roots.size };
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

/** One plain sentence (or two) saying what differed between the panes and why. */
export function compareSentence(
  labels: [string, string],
  a: PaneMetrics,
  b: PaneMetrics,
  same: boolean,
  refaults: [number | null, number | null],
): string {
  const [la, lb] = labels;
  const ca = a.counters;
  const cb = b.counters;
  const parts: string[] = [];
  if (ca.spte_reads !== cb.spte_reads) {
    const aMore = ca.spte_reads > cb.spte_reads;
    const [more, less, cm, cl] = aMore ? [la, lb, ca, cb] : [lb, la, cb, ca];
    let why = '';
    // The walk explanation holds only when the pane that read more is the walking one.
    if (more.includes('walk') && cm.iter_steps > cl.iter_steps) {
      why = `: it walks the GFN range from each valid root (${n(cm.iter_steps)} iterator visits) where ${less} reads sp->ptep once`;
    }
    parts.push(
      `${more} read ${n(cm.spte_reads - cl.spte_reads)} more SPTEs than ${less} ` +
        `(${n(cm.spte_reads)} vs ${n(cl.spte_reads)})${why}.`,
    );
  }
  if (ca.tlb_flushes_ranged !== cb.tlb_flushes_ranged) {
    const [more, cm, cl] =
      ca.tlb_flushes_ranged > cb.tlb_flushes_ranged ? [la, ca, cb] : [lb, cb, ca];
    parts.push(
      `${more} issued ${n(cm.tlb_flushes_ranged - cl.tlb_flushes_ranged)} more ranged TLB flushes ` +
        `(5.16 flushes each removed table's range in the handler).`,
    );
  }
  if (same) {
    parts.push('Both leave identical tables.');
  } else if (a.nxLpageSplits !== b.nxLpageSplits) {
    const [stuck, other] = a.nxLpageSplits > b.nxLpageSplits ? [la, lb] : [lb, la];
    parts.push(
      `The tables differ: ${stuck} left ${n(Math.max(a.nxLpageSplits, b.nxLpageSplits))} NX-accounted ` +
        `table(s) that ${other} zapped — a walk only visits valid roots, so a table under an ` +
        `invalidated root is never reached.`,
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
