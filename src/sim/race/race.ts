// A race: several actors (vCPUs, the NX recovery worker) run their statements interleaved, one
// scheduling point at a time. The scheduler grants mmu_lock (readers share it, a writer excludes
// everyone), keeps each actor's RCU read-side section, frees a table handed to call_rcu() when the
// last actor that could still see it leaves its section, and tells the log which actor runs.
import { EV, NONE } from '../event-log.ts';
import { pagesPerHpage } from '../geometry.ts';
import type { Kvm, RaceHooks, Sp } from '../kvm.ts';
import { LOCK_MODES, RET_PF_RETRY, type FaultType, type ZapStrategy } from '../names.ts';
import { kvmTdpMmuZapInvalidatedRoots } from '../ops/invalidate-roots.ts';
import { hardwareWalk, kvmTdpPageFault } from '../ops/page-fault.ts';
import { kvmRecoverNxLpages, type RecoverOptions } from '../ops/recover-nx.ts';
import { kvmMmuReload } from '../ops/roots.ts';
import type { Op } from '../pause.ts';
import type { KernelProfile } from '../profile.ts';
import { isLastSpte, isShadowPresent } from '../spte.ts';

/** A vCPU that keeps retrying gives up after this many faults (a livelock, reported as such). */
export const MAX_RETRIES = 16;

export type ActorWork =
  | { kind: 'access' | 'fault'; vcpu: number; gfn: number; type: FaultType }
  | { kind: 'recover_nx'; strategy: ZapStrategy; opts: RecoverOptions }
  | { kind: 'zap_invalidated_roots' };

export interface ActorSpec {
  /** `vcpu1`, `recovery`: as the script names it. */
  name: string;
  line: number;
  work: ActorWork;
}

type Held = 'none' | 'read' | 'write';

class Actor {
  op: Op<number> | null = null;
  done = false;
  result = 0;
  held: Held = 'none';
  wants: 'read' | 'write' | null = null;
  /** Blocked until busy() is false (a frozen SPTE someone else owns). */
  busy: (() => boolean) | null = null;
  /** After RET_PF_RETRY: waits for another actor to write an SPTE before faulting again. */
  waitsForWrite = false;
  inRcu = false;
  /** Tables it has read from, or read a pointer to, since it took mmu_lock. */
  readonly reach = new Set<Sp>();
  steps = 0;
  /** What the actor has read so far, hashed: with `steps`, its position in its own code. */
  h1 = 0x811c9dc5;
  h2 = 0x01000193;
  retries = 0;
  constructor(
    readonly index: number,
    readonly spec: ActorSpec,
  ) {}
}

/** Picks the actor for each scheduling point: an index into `runnable` actors' indices. */
export type Chooser = (runnable: readonly number[], point: number, race: Race) => number;

export interface Violation {
  /** The scheduling point after which it was seen (0-based). */
  point: number;
  message: string;
}

const LEVEL_NAMES = ['', '4K', '2M', '1G'];

const mix = (h: number, v: number): number => Math.imul(h ^ v, 0x01000193) >>> 0;

export class Race implements RaceHooks {
  private readonly actors: Actor[];
  private running: Actor | null = null;
  /** The actor whose events the log shows now (the last EV.actor). */
  private shown = -1;
  private readonly pendingRcu: { sp: Sp; readers: Set<Actor> }[] = [];
  /** Scheduling points taken, and the actor each picked. */
  readonly picks: number[] = [];
  /** For each point: the lowest runnable actor (what an exhausted list would have picked). */
  readonly lowest: number[] = [];
  readonly violations: Violation[] = [];
  /** A hash of the SPTEs written in the race (XOR of per-entry deltas: the order does not matter). */
  private z1 = 0;
  private z2 = 0;

  constructor(
    private readonly kvm: Kvm,
    private readonly p: KernelProfile,
    specs: readonly ActorSpec[],
  ) {
    this.actors = specs.map((s, i) => new Actor(i, s));
  }

  /** The actor whose events came last (-1 before any). */
  get lastActor(): number {
    return this.shown;
  }

  get finished(): boolean {
    return this.actors.every((a) => a.done);
  }

  /** Run scheduling points until every actor is done, the chooser says stop (-1) or a deadlock. */
  run(choose: Chooser, afterStep?: (race: Race) => boolean): void {
    const kvm = this.kvm;
    kvm.race = this;
    try {
      while (!this.finished) {
        const runnable = this.runnable();
        if (runnable.length === 0) {
          this.violation('deadlock: every actor left is waiting');
          return;
        }
        const pick = choose(runnable, this.picks.length, this);
        if (pick < 0) return;
        const actor = this.actors[runnable.includes(pick) ? pick : (runnable[0] ?? 0)];
        if (!actor) return;
        this.picks.push(actor.index);
        this.lowest.push(runnable[0] ?? 0);
        this.step(actor);
        if (afterStep && !afterStep(this)) return;
      }
    } finally {
      kvm.race = null;
      this.running = null;
    }
  }

  /** Actors that can take the next point: not done, not waiting, lock grantable. */
  runnable(): number[] {
    let out = this.actors.filter((a) => this.canRun(a)).map((a) => a.index);
    if (out.length === 0) {
      // Nobody else can write: a vCPU waiting for a change retries anyway.
      for (const a of this.actors) if (a.waitsForWrite) a.waitsForWrite = false;
      out = this.actors.filter((a) => this.canRun(a)).map((a) => a.index);
    }
    return out;
  }

  private canRun(a: Actor): boolean {
    if (a.done || a.waitsForWrite) return false;
    if (a.busy && a.busy()) return false;
    if (a.wants === 'write') return this.actors.every((b) => b === a || b.held === 'none');
    if (a.wants === 'read') return this.actors.every((b) => b.held !== 'write');
    return true;
  }

  private step(a: Actor): void {
    const kvm = this.kvm;
    if (this.shown !== a.index) {
      kvm.emit(EV.actor, a.index, this.shown < 0 ? NONE : this.shown);
      this.shown = a.index;
    }
    this.running = a;
    a.busy = null;
    if (a.wants) {
      const was = a.held;
      a.held = a.wants;
      a.wants = null;
      a.inRcu = true;
      a.reach.clear();
      kvm.emit(EV.mmuLock, LOCK_MODES.indexOf(a.held), LOCK_MODES.indexOf(was), a.index + 1);
    }
    if (!a.op) {
      a.op = this.body(a);
      kvm.emit(EV.actorOp, a.index, 0, a.spec.line);
    }
    a.steps++;
    try {
      const r = a.op.next();
      if (r.done) {
        a.done = true;
        a.result = r.value;
        kvm.emit(EV.actorOp, a.index, 1, a.spec.line, r.value);
      }
    } catch (e) {
      // A BUG() in the model's kernel code: the actor stops there.
      a.done = true;
      this.violation(`${a.spec.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.running = null;
  }

  private *body(a: Actor): Op<number> {
    const w = a.spec.work;
    const kvm = this.kvm;
    const p = this.p;
    if (w.kind === 'recover_nx') {
      this.lock(w.opts.lock);
      yield;
      const r = yield* kvmRecoverNxLpages(kvm, p, w.strategy, w.opts);
      this.unlock();
      return r.zapped;
    }
    if (w.kind === 'zap_invalidated_roots') {
      // The zap of invalidated roots runs under the read lock (5.18's workqueue, 6.x's caller).
      this.lock('read');
      yield;
      const n = yield* kvmTdpMmuZapInvalidatedRoots(kvm, p);
      this.unlock();
      return n;
    }
    for (;;) {
      if (w.kind === 'access') {
        kvmMmuReload(kvm, p, w.vcpu);
        yield;
        const walk = hardwareWalk(kvm, w.gfn, w.type, w.vcpu);
        if (walk.result !== 'violation') return 0;
      }
      const ret = yield* kvmTdpPageFault(kvm, p, w.gfn, w.type, w.vcpu);
      if (ret !== RET_PF_RETRY) return ret;
      // RET_PF_RETRY: the vCPU re-enters the guest and faults again once something has changed.
      if (++a.retries >= MAX_RETRIES) {
        this.violation(
          `${a.spec.name}: livelock, the fault returned RET_PF_RETRY ${a.retries} times`,
        );
        return ret;
      }
      a.waitsForWrite = true;
      yield;
    }
  }

  private violation(message: string): void {
    this.violations.push({ point: this.picks.length - 1, message });
  }

  // ---- RaceHooks ------------------------------------------------------------------------

  read(sp: Sp | null, lo: number, hi: number): void {
    const a = this.running;
    if (!a) return;
    if (sp?.freed) {
      this.violation(`${a.spec.name} read sp ${sp.id} after it was freed (use after free)`);
    }
    if (sp) {
      a.reach.add(sp);
      if (isShadowPresent(lo) && !isLastSpte(lo, sp.level)) a.reach.add(this.kvm.childOf(lo, hi));
    }
    a.h1 = mix(mix(a.h1, lo), hi);
    a.h2 = mix(mix(a.h2 ^ 0x5bd1e995, hi), lo);
  }

  wrote(sp: Sp, index: number, oldLo: number, oldHi: number, lo: number, hi: number): void {
    const a = this.running;
    if (sp.freed) {
      this.violation(`${a?.spec.name ?? 'someone'} wrote sp ${sp.id}[${index}] after it was freed`);
    }
    // NX recovery takes tables off the NX list: the only leaves it may clear are inside them.
    if (
      a?.spec.work.kind === 'recover_nx' &&
      !sp.detached &&
      isShadowPresent(oldLo) &&
      isLastSpte(oldLo, sp.level)
    ) {
      const gfn = sp.gfn + index * pagesPerHpage(sp.level);
      this.violation(
        `${a.spec.name} zapped the ${LEVEL_NAMES[sp.level] ?? ''} leaf for gfn 0x${gfn.toString(16)} ` +
          `(sp ${sp.id}[${index}]): NX recovery removes the tables it takes off the NX list, never a mapping`,
      );
    }
    const at = sp.id * 512 + index;
    this.z1 ^= entryHash(at, oldLo, oldHi, 0x9e3779b9) ^ entryHash(at, lo, hi, 0x9e3779b9);
    this.z2 ^= entryHash(at, oldLo, oldHi, 0x85ebca6b) ^ entryHash(at, lo, hi, 0x85ebca6b);
    for (const b of this.actors) if (b !== a) b.waitsForWrite = false;
  }

  waitWhile(busy: () => boolean): void {
    if (this.running) this.running.busy = busy;
  }

  lock(mode: 'read' | 'write'): void {
    if (this.running) this.running.wants = mode;
  }

  unlock(): void {
    const a = this.running;
    if (!a) return;
    this.kvm.emit(EV.mmuLock, 0, LOCK_MODES.indexOf(a.held), a.index + 1);
    a.held = 'none';
    a.inRcu = false;
    a.reach.clear();
    // rcu_read_unlock(): tables no remaining reader can reach are freed.
    for (let i = 0; i < this.pendingRcu.length;) {
      const e = this.pendingRcu[i];
      if (!e) break;
      e.readers.delete(a);
      if (e.readers.size === 0) {
        this.kvm.freeSp(e.sp);
        this.pendingRcu.splice(i, 1);
      } else i++;
    }
  }

  privateRoot(root: Sp): boolean {
    if (!root.invalid) return false;
    return this.actors.every((a) => {
      if (a === this.running || a.done) return true;
      if (a.spec.work.kind !== 'access' && a.spec.work.kind !== 'fault') return false;
      for (const t of a.reach) if (t.rootId === root.id) return false;
      return true;
    });
  }

  contended(sp: Sp, index: number): boolean {
    // A live table of a valid root: any vCPU's next walk may come here.
    const hidden = sp.detached || (this.kvm.sps[sp.rootId]?.invalid ?? false);
    if (!hidden) return true;
    return this.actors.some((a) => {
      if (a === this.running || a.done) return false;
      const w = a.spec.work;
      // The zapper walks the invalid roots and may meet any of their entries.
      if (w.kind === 'zap_invalidated_roots') return true;
      if (w.kind === 'recover_nx') {
        // Recovery reads and writes sp->ptep of the tables on the NX list, wherever they hang; a
        // plain-store zap also tears down whatever its stale read pointed at.
        if (w.strategy !== 'atomic' && a.reach.has(sp)) return true;
        for (const t of this.kvm.nxList) if (t.parent === sp) return true;
        return false;
      }
      // A vCPU reaches a hidden table only through a pointer it already read, and its walk reads
      // the entry on its GFN's path there and at most the one after it (a side step that ends it).
      if (!a.reach.has(sp)) return false;
      const at = Math.floor((w.gfn - sp.gfn) / pagesPerHpage(sp.level));
      return index === at || index === at + 1;
    });
  }

  callRcu(sp: Sp): void {
    if (this.pendingRcu.some((e) => e.sp === sp) || sp.freed) {
      this.violation(
        `${this.running?.spec.name ?? 'someone'} handed sp ${sp.id} to call_rcu() a second time (a double free)`,
      );
    }
    const readers = new Set(this.actors.filter((a) => a.inRcu));
    if (readers.size === 0) this.kvm.freeSp(sp);
    else this.pendingRcu.push({ sp, readers });
  }

  // ---- What the explorer compares -------------------------------------------------------

  /**
   * Everything the rest of the race depends on: the SPTEs (hashed), the tables' flags, the NX list,
   * the stats, the RCU queue, and each actor's progress and what it has read. Equal keys run on
   * identically, whatever interleaving led to them.
   */
  stateKey(): string {
    const k = this.kvm;
    const sps = k.sps.map(
      (s) =>
        (s.linked ? 1 : 0) |
        (s.freed ? 2 : 0) |
        (s.rcuPending ? 4 : 0) |
        (s.nxDisallowed ? 8 : 0) |
        (s.hugeDisallowed ? 16 : 0),
    );
    const nx = [...k.nxList].map((s) => s.id);
    const rcu = this.pendingRcu.map(
      (e) => `${e.sp.id}:${[...e.readers].map((a) => a.index).join(',')}`,
    );
    const actors = this.actors.map(
      (a) =>
        `${a.done ? 'd' : ''}${a.held}${a.wants ?? ''}${a.waitsForWrite ? 'w' : ''}` +
        `${a.busy ? 'b' : ''}${a.steps}.${a.h1}.${a.h2}`,
    );
    return [
      this.z1,
      this.z2,
      sps.join(''),
      nx.join(','),
      k.pages.join(','),
      k.nxLpageSplits,
      k.roots.map((r) => r.id).join(','),
      rcu.join(';'),
      actors.join('|'),
    ].join('/');
  }
}

function entryHash(at: number, lo: number, hi: number, seed: number): number {
  let h = Math.imul(at ^ seed, 0xcc9e2d51);
  h = Math.imul(h ^ lo, 0x1b873593);
  h = Math.imul(h ^ (h >>> 15) ^ hi, 0xe6546b64);
  return (h ^ (h >>> 13)) >>> 0;
}
