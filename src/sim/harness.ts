// A headless, chainable driver for tests: runs scenario text or single operations, and after every
// statement checks the invariants and that a mirror rebuilt from the event log agrees with the model.
import { decodeEvent, type SimEvent } from './events.ts';
import { checkInvariants } from './invariants.ts';
import { MAX_VCPUS, type Counters, type Stats, type VmConfig } from './names.ts';
import { Mirror } from './replay.ts';
import { parseScenario } from './scenario/parse.ts';
import type { ExpectFailure } from './scenario/ast.ts';
import { runStatement } from './scenario/run.ts';
import { Simulator } from './simulator.ts';

export class SimHarness {
  readonly sim: Simulator;
  readonly mirror: Mirror;
  readonly failures: ExpectFailure[] = [];

  constructor(config: Partial<VmConfig> = {}) {
    this.sim = new Simulator(config);
    this.mirror = new Mirror(config);
  }

  /** Run scenario text; a parse error, a refused statement or a broken invariant throws. */
  run(text: string): this {
    const parsed = parseScenario(text);
    const first = parsed.errors[0];
    if (first) throw new Error(`${first.line}:${first.col}: ${first.message}`);
    for (const st of parsed.statements) {
      runStatement(this.sim, st, this.failures);
      this.verify(`after line ${st.line} (${st.kind})`);
    }
    const failed = this.failures[0];
    if (failed) {
      throw new Error(
        `expect ${failed.name}=${failed.expected} at line ${failed.line}: got ${failed.actual}`,
      );
    }
    return this;
  }

  /** Run something on the simulator directly, then verify. */
  do(fn: (sim: Simulator) => unknown): this {
    fn(this.sim);
    this.verify('after a direct call');
    return this;
  }

  /** Invariants hold and the log-rebuilt mirror equals the model. */
  verify(where: string): void {
    const bad = checkInvariants(this.sim.kvm);
    if (bad.length > 0) throw new Error(`invariants broken ${where}:\n  ${bad.join('\n  ')}`);
    this.mirror.seek(this.sim.kvm.log, this.sim.kvm.log.length);
    const diff = mirrorDiff(this.sim, this.mirror);
    if (diff) throw new Error(`the event log does not rebuild the model ${where}: ${diff}`);
  }

  get mark(): number {
    return this.sim.kvm.log.length;
  }

  /** Decoded events from `from` (a `mark`) to now. */
  events(from = 0): SimEvent[] {
    const log = this.sim.kvm.log;
    const out: SimEvent[] = [];
    for (let i = from; i < log.length; i++) out.push(decodeEvent(log, i, this.mirror.spOf));
    return out;
  }

  stats(): Stats {
    return this.sim.stats();
  }

  counters(): Counters {
    return this.sim.counters();
  }
}

/** The first difference between the model and a mirror at the log's end, or null. */
export function mirrorDiff(sim: Simulator, mirror: Mirror): string | null {
  const kvm = sim.kvm;
  if (JSON.stringify(mirror.stats()) !== JSON.stringify(kvm.stats())) {
    return `stats ${JSON.stringify(mirror.stats())} vs ${JSON.stringify(kvm.stats())}`;
  }
  if (JSON.stringify(mirror.counters) !== JSON.stringify(kvm.counters)) {
    return `counters ${JSON.stringify(mirror.counters)} vs ${JSON.stringify(kvm.counters)}`;
  }
  if (mirror.sps.length !== kvm.sps.length)
    return `sp count ${mirror.sps.length} vs ${kvm.sps.length}`;
  for (const sp of kvm.sps) {
    const m = mirror.sps[sp.id];
    if (!m) return `sp ${sp.id} missing`;
    const same =
      m.linked === sp.linked &&
      m.freed === sp.freed &&
      m.invalid === sp.invalid &&
      m.rootCount === sp.rootCount &&
      m.nxDisallowed === sp.nxDisallowed &&
      m.gfn === sp.gfn &&
      m.level === sp.level &&
      m.parent === (sp.parent ? sp.parent.id : null);
    if (!same) return `sp ${sp.id} metadata differs`;
    for (let i = 0; i < 1024; i++) {
      if ((m.spt[i] ?? 0) >>> 0 !== (sp.spt[i] ?? 0) >>> 0) return `sp ${sp.id} word ${i} differs`;
    }
  }
  const roots = mirror
    .roots()
    .map((r) => r.id)
    .join();
  if (roots !== kvm.roots.map((r) => r.id).join()) return `roots ${roots}`;
  const nx = mirror
    .nxList()
    .map((s) => s.id)
    .join();
  if (nx !== [...kvm.nxList].map((s) => s.id).join()) return `NX list ${nx}`;
  for (let v = 0; v < MAX_VCPUS; v++) {
    if ((mirror.vcpuRoots[v] ?? null) !== (kvm.vcpuRoots[v]?.id ?? null)) {
      return `vCPU ${v}'s root differs`;
    }
  }
  return null;
}

/** A table as modelState() and mirrorState() write it: one layout for both. */
interface TableRow {
  id: number;
  gfn: number;
  level: number;
  rootId: number;
  parent: number | null;
  parentIndex: number;
  linked: boolean;
  freed: boolean;
  invalid: boolean;
  rootCount: number;
  nxDisallowed: boolean;
  spt: ArrayLike<number>;
}

const sortedKeys = (o: object) =>
  Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));

/** The canonical form: stats, counters, config, memslots, roots and NX in order, vCPU roots, tables. */
function stateJson(s: {
  stats: Stats;
  counters: Counters;
  config: VmConfig;
  memslots: readonly { id: number; baseGfn: number; npages: number; backingLevel: number }[];
  roots: number[];
  nx: number[];
  vcpuRoot: (v: number) => number | null;
  sps: readonly TableRow[];
}): string {
  return JSON.stringify({
    stats: s.stats,
    counters: s.counters,
    config: sortedKeys(s.config),
    memslots: s.memslots.map((m) => [m.id, m.baseGfn, m.npages, m.backingLevel]),
    roots: s.roots,
    nx: s.nx,
    vcpuRoots: Array.from({ length: MAX_VCPUS }, (_, v) => s.vcpuRoot(v)),
    sps: s.sps.map((sp) => [
      sp.id,
      sp.gfn,
      sp.level,
      sp.rootId,
      sp.parent,
      // sp->ptep's index means nothing without a parent.
      sp.parent === null ? null : sp.parentIndex,
      sp.linked,
      sp.freed,
      sp.invalid,
      sp.rootCount,
      sp.nxDisallowed,
      Array.from(sp.spt, (w) => w >>> 0).join(),
    ]),
  });
}

/**
 * Everything the page shows of the model at a statement boundary, canonically (every table with
 * its sp->ptep, root, flags and SPTEs); mirrorState() gives the same of a mirror.
 */
export function modelState(sim: Simulator): string {
  const kvm = sim.kvm;
  return stateJson({
    stats: kvm.stats(),
    counters: kvm.counters,
    config: kvm.config,
    memslots: kvm.memslots,
    roots: kvm.roots.map((r) => r.id),
    nx: [...kvm.nxList].map((s) => s.id),
    vcpuRoot: (v) => kvm.vcpuRoots[v]?.id ?? null,
    sps: kvm.sps.map((sp) => ({ ...sp, spt: sp.spt, parent: sp.parent ? sp.parent.id : null })),
  });
}

export function mirrorState(m: Mirror): string {
  return stateJson({
    stats: m.stats(),
    counters: m.counters,
    config: m.config,
    memslots: m.memslots,
    roots: m.roots().map((r) => r.id),
    nx: m.nxList().map((s) => s.id),
    vcpuRoot: (v) => m.vcpuRoots[v] ?? null,
    sps: m.sps,
  });
}
