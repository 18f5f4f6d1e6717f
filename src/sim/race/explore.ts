// The explorer: every schedule of one race block, run with the invariants checked after every
// scheduling point. Schedules that reach the same state (the same SPTEs, tables, NX list and stats,
// and every actor at the same place having read the same values) go on identically, so each state
// is expanded once and the schedules through it are counted, not re-run: a depth-first search over
// the graph of states, re-running the script from the start for each branch it has not taken yet.
import { checkInvariants } from '../invariants.ts';
import type { Kvm, Sp } from '../kvm.ts';
import type { RaceStatement, Statement } from '../scenario/ast.ts';
import { raceActors, runStatements } from '../scenario/run.ts';
import { Simulator } from '../simulator.ts';
import { isLastSpte, isShadowPresent } from '../spte.ts';
import type { Race } from './race.ts';
import { chooserFor, trimPicks, type ScheduleSpec } from './schedule.ts';

export const DEFAULT_MAX_RUNS = 100_000;

export interface ExploredState {
  /** The schedule that reaches it, shortest form (trailing default picks dropped). */
  picks: number[];
  summary: string;
}

export interface FoundViolation {
  picks: number[];
  /** The scheduling point (0-based) after which it was seen. */
  point: number;
  message: string;
}

export interface ExploreResult {
  /** The line of `race`. */
  line: number;
  /** Complete schedules (every interleaving of the actors' scheduling points). */
  schedules: bigint;
  /** False when --max stopped the search: the figures are then lower bounds. */
  complete: boolean;
  finals: ExploredState[];
  violations: FoundViolation[];
  states: number;
  runs: number;
  ms: number;
}

interface Node {
  edges: Map<number, string>;
  end: boolean;
}

export interface ExploreOptions {
  max?: number;
  /** Asked between runs: true stops the search (the figures so far are kept). */
  stop?: () => boolean;
  onProgress?: (runs: number, states: number) => void;
  /** false: every schedule is its own path, nothing merged (the tests' check of the merging). */
  merge?: boolean;
}

/** Explore the race at `statements[index]`, after running the statements before it as written. */
export function exploreRace(
  statements: readonly Statement[],
  index: number,
  opts: ExploreOptions = {},
): ExploreResult {
  const ex = new Explorer(statements, index, opts);
  while (!opts.stop?.() && ex.step(256)) opts.onProgress?.(ex.runs, ex.states);
  return ex.result();
}

/** The search, a slice at a time: the worker runs slices between messages so Stop is heard. */
export class Explorer {
  private readonly race: RaceStatement;
  private readonly before: readonly Statement[];
  private readonly max: number;
  private readonly merge: boolean;
  private readonly t0 = Date.now();
  private readonly nodes = new Map<string, Node>();
  private readonly finals = new Map<string, ExploredState>();
  private readonly violations = new Map<string, FoundViolation>();
  private readonly stack: number[][] = [[]];
  private root = '';
  runs = 0;

  constructor(statements: readonly Statement[], index: number, opts: ExploreOptions = {}) {
    const race = statements[index];
    if (race?.kind !== 'race') throw new RangeError(`statement ${index} is not a race`);
    this.race = race;
    this.before = statements.slice(0, index);
    this.max = opts.max ?? DEFAULT_MAX_RUNS;
    this.merge = opts.merge ?? true;
  }

  get states(): number {
    return this.nodes.size;
  }

  /** Up to `runs` more runs; false once the search is over (done, or at the --max cap). */
  step(runs: number): boolean {
    for (let n = 0; n < runs; n++) {
      if (this.stack.length === 0 || this.runs >= this.max) return false;
      const prefix = this.stack.pop() ?? [];
      this.runs++;
      const k = runOnce(
        this.before,
        this.race,
        prefix,
        this.nodes,
        this.stack,
        this.finals,
        this.violations,
        this.merge,
      );
      if (this.runs === 1) this.root = k;
    }
    return this.stack.length > 0 && this.runs < this.max;
  }

  result(): ExploreResult {
    return {
      line: this.race.line,
      schedules: countSchedules(this.nodes, this.root),
      complete: this.stack.length === 0,
      finals: [...this.finals.values()],
      violations: [...this.violations.values()],
      states: this.nodes.size,
      runs: this.runs,
      ms: Date.now() - this.t0,
    };
  }
}

/** One run: follow `prefix`, then expand each new state, stopping at one seen before. */
function runOnce(
  before: readonly Statement[],
  st: RaceStatement,
  prefix: readonly number[],
  nodes: Map<string, Node>,
  stack: number[][],
  finals: Map<string, ExploredState>,
  violations: Map<string, FoundViolation>,
  merge: boolean,
): string {
  const keyOf = (race: Race) => (merge ? race.stateKey() : race.picks.join(','));
  const sim = new Simulator();
  const pre = runStatements([...before], sim);
  if (pre.error) throw new Error(`line ${pre.error.line}: ${pre.error.message}`);
  let cur = '';
  let rootKey = '';
  let seenViolations = 0;
  const record = (race: Race, message: string, point: number) => {
    if (violations.has(message)) return;
    violations.set(message, { picks: race.picks.slice(0, point + 1), point, message });
  };
  const done = sim.race(
    raceActors(sim, st),
    (runnable, point, race) => {
      if (point === 0) {
        cur = keyOf(race);
        rootKey = cur;
        if (!nodes.has(cur)) nodes.set(cur, { edges: new Map(), end: false });
      }
      const forced = prefix[point];
      if (forced !== undefined) return forced;
      // A new state: every other runnable actor is a branch to take later.
      for (const r of runnable.slice(1)) stack.push([...race.picks, r]);
      return runnable[0] ?? 0;
    },
    (race) => {
      const key = keyOf(race);
      const point = race.picks.length - 1;
      nodes.get(cur)?.edges.set(race.picks[point] ?? 0, key);
      cur = key;
      if (nodes.has(key)) return point + 1 < prefix.length;
      const node: Node = { edges: new Map(), end: false };
      nodes.set(key, node);
      const found = race.violations.slice(seenViolations).map((v) => v.message);
      seenViolations = race.violations.length;
      found.push(...checkInvariants(sim.kvm, !race.finished));
      if (found.length > 0) {
        for (const m of found) record(race, m, point);
        node.end = true;
        return false;
      }
      if (race.finished) {
        node.end = true;
        const f = finalState(sim.kvm);
        if (!finals.has(f.key)) {
          finals.set(f.key, { picks: trimPicks(race.picks, race.lowest), summary: f.summary });
        }
      }
      return true;
    },
  );
  // A deadlock ends the run without a step to look at.
  for (const v of done.violations.slice(seenViolations)) record(done, v.message, v.point);
  if (done.violations.length > seenViolations) {
    const node = nodes.get(cur);
    if (node) node.end = true;
  }
  return rootKey;
}

/**
 * Run the race at `statements[index]` with a schedule and the invariants checked after every point:
 * what a printed schedule= shows when it is run.
 */
export function replaySchedule(
  statements: readonly Statement[],
  index: number,
  schedule: ScheduleSpec,
): { violations: { point: number; message: string }[]; summary: string } {
  const st = statements[index];
  if (st?.kind !== 'race') throw new RangeError(`statement ${index} is not a race`);
  const sim = new Simulator();
  const pre = runStatements(statements.slice(0, index), sim);
  if (pre.error) throw new Error(`line ${pre.error.line}: ${pre.error.message}`);
  const violations: { point: number; message: string }[] = [];
  let seen = 0;
  const race = sim.race(raceActors(sim, st), chooserFor(schedule), (r) => {
    const point = r.picks.length - 1;
    const found = r.violations.slice(seen).map((v) => v.message);
    seen = r.violations.length;
    found.push(...checkInvariants(sim.kvm, !r.finished));
    for (const message of found) violations.push({ point, message });
    return true;
  });
  for (const v of race.violations.slice(seen)) violations.push(v);
  return { violations, summary: finalState(sim.kvm).summary };
}

/**
 * Schedules from each state to an end: a sum over its branches, memoized (the graph is a DAG) and
 * without recursion (a zapper's walk is thousands of points deep).
 */
function countSchedules(nodes: Map<string, Node>, root: string): bigint {
  const memo = new Map<string, bigint>();
  const stack = [root];
  while (stack.length > 0) {
    const key = stack[stack.length - 1] ?? root;
    if (memo.has(key)) {
      stack.pop();
      continue;
    }
    const node = nodes.get(key);
    if (!node || node.end) {
      memo.set(key, node ? 1n : 0n);
      stack.pop();
      continue;
    }
    const todo = [...node.edges.values()].filter((c) => !memo.has(c));
    if (todo.length > 0) {
      stack.push(...todo);
      continue;
    }
    let n = 0n;
    for (const c of node.edges.values()) n += memo.get(c) ?? 0n;
    memo.set(key, n);
    stack.pop();
  }
  return memo.get(root) ?? 0n;
}

/**
 * The VM's paging structure as a string that does not depend on the ids tables got (two vCPUs may
 * allocate in either order): each root's tree with its leaves, the NX list by position, the stats.
 */
export function finalState(kvm: Kvm): { key: string; summary: string } {
  const np = kvm.profile.nonPresentHi;
  const tree = (sp: Sp): string => {
    const parts: string[] = [];
    for (let i = 0; i < 512; i++) {
      const lo = sp.spt[2 * i] ?? 0;
      const hi = sp.spt[2 * i + 1] ?? 0;
      if (!isShadowPresent(lo)) {
        if (lo !== 0 || hi !== np) parts.push(`${i}:n${lo >>> 0},${hi >>> 0}`);
        continue;
      }
      if (isLastSpte(lo, sp.level)) parts.push(`${i}:${lo >>> 0},${hi >>> 0}`);
      else {
        const c = kvm.childOf(lo, hi);
        parts.push(`${i}:${c.hugeDisallowed ? 'd' : ''}(${tree(c)})`);
      }
    }
    return parts.join(' ');
  };
  const where = (sp: Sp) => `${sp.level}@${sp.gfn}`;
  const leaked = kvm.sps.filter((s) => !s.freed && !s.isRoot && !s.linked).map(where);
  const s = kvm.stats();
  const tables = kvm.sps.filter((x) => x.linked && !x.isRoot).length;
  const summary =
    `pages_4k=${s.pages_4k} pages_2m=${s.pages_2m} pages_1g=${s.pages_1g} ` +
    `nx_lpage_splits=${s.nx_lpage_splits} tables=${tables}`;
  const key = [
    kvm.roots.map((r) => `[${tree(r)}]`).join(''),
    [...kvm.nxList].map(where).join(','),
    leaked.join(','),
    summary,
  ].join('/');
  return { key, summary };
}
