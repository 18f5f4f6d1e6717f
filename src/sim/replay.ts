// A mirror of the model rebuilt from the event log alone. It moves one event at a time, forward or
// back, so any earlier state returns exactly: the UI's step-back and the tests' proof that the log
// is complete and invertible both rest on it.
import {
  EV,
  FD_PF_EMULATE,
  FD_PF_FIXED,
  FD_PF_MMIO_SPTE_CREATED,
  FD_PF_SPURIOUS,
  FD_PF_TAKEN,
  FD_FROZEN_SEEN,
  FD_PF_RETRY,
  join32,
  OP_KERNEL_SHIFT,
  SC_ATOMIC,
  SC_HANDLED,
  SPA_FILLED,
  SPA_UNKNOWN,
  TR_GONE,
  TR_MISMATCH,
  TR_SEEN,
  WORDS,
} from './event-log.ts';
import { eventKind, type SpMeta, type WordSource } from './events.ts';
import {
  DEFAULT_CONFIG,
  LOCK_MODES as LOCKS,
  OPS,
  statsOf,
  zeroCounters,
  type Counters,
  type LockMode,
  type Stats,
  type VmConfig,
} from './names.ts';
import { HI_BIT63, KERNELS } from './profile.ts';
import { isLastSpte, isRemovedSpte, isShadowPresent } from './spte.ts';

export interface MirrorSp extends SpMeta {
  id: number;
  parent: number | null;
  parentIndex: number;
  spt: Uint32Array;
  linked: boolean;
  freed: boolean;
  invalid: boolean;
  rootCount: number;
  nxDisallowed: boolean;
  nxSeq: number;
  /** A table an imported trace implies: 1 for each entry it has not shown yet (null: all known). */
  unknown: Uint8Array | null;
  /** spt and unknown still belong to the checkpoint this was restored from: copied on first write. */
  borrowed?: boolean;
}

export interface MirrorMemslot {
  id: number;
  baseGfn: number;
  npages: number;
  backingLevel: number;
}

/** A batch of raw event words (as shipped across the worker boundary) seen as a WordSource. */
export class WordBatch implements WordSource {
  constructor(
    readonly words: Uint32Array,
    /** Index of the first event in the batch within the whole log. */
    readonly first = 0,
  ) {}
  get length(): number {
    return this.first + this.words.length / WORDS;
  }
  word(i: number, w: number): number {
    return this.words[(i - this.first) * WORDS + w] ?? 0;
  }
}

/** How far back a step back looks for the actors' cursors (a race rarely has more events). */
const CELL_SCAN = 1 << 16;

/**
 * Each actor's cursor just before event i, where `actor` runs: scanning back to the race's start,
 * the last entry each one visited or wrote.
 */
function actorCellsBefore(
  src: WordSource,
  i: number,
  actor: number,
): ({ sp: number; index: number } | null)[] {
  const cells: ({ sp: number; index: number } | null)[] = [];
  const found = new Set<number>();
  let cur = actor;
  for (let j = i - 1; j >= 0 && j > i - CELL_SCAN; j--) {
    const kind = eventKind(src, j);
    if (kind === EV.opBegin) break;
    if (kind === EV.actor) {
      const was = src.word(j, 2);
      cur = was === NONE ? -1 : was;
      continue;
    }
    const cell =
      kind === EV.iterStep ||
      kind === EV.iterUp ||
      kind === EV.spteChanged ||
      kind === EV.cmpxchgFailed;
    if (cell && cur >= 0 && !found.has(cur)) {
      found.add(cur);
      cells[cur] = { sp: src.word(j, 1), index: src.word(j, 2) & 0x3ff };
    }
  }
  for (let a = 0; a < cells.length; a++) cells[a] ??= null;
  return cells;
}

/** Each of a race's `n` actors just before event i: the last actorOp each one had says. */
function actorStatesBefore(src: WordSource, i: number, n: number): ('idle' | 'running' | 'done')[] {
  const states: ('idle' | 'running' | 'done' | undefined)[] = Array.from(
    { length: n },
    () => undefined,
  );
  for (let j = i - 1; j >= 0; j--) {
    const kind = eventKind(src, j);
    if (kind === EV.opBegin) break;
    const a = src.word(j, 1);
    if (kind === EV.actorOp && a < n && states[a] === undefined) {
      states[a] = src.word(j, 2) === 1 ? 'done' : 'running';
    }
  }
  return states.map((s) => s ?? 'idle');
}

/**
 * A mirror's whole state at one cursor (see Mirror.checkpoint()): seeking restores the nearest and
 * replays from there. Tables unchanged since the checkpoint before share its SPTE arrays.
 */
export interface MirrorCheckpoint {
  readonly cursor: number;
  readonly sps: readonly MirrorSp[];
  readonly vcpuRoots: readonly (number | null)[];
  readonly memslots: readonly MirrorMemslot[];
  readonly config: VmConfig;
  readonly configs: readonly VmConfig[];
  readonly pages: readonly number[];
  readonly nxLpageSplits: number;
  readonly lostEvents: number;
  readonly counters: Counters;
  readonly iter: { sp: number; index: number } | null;
  readonly lock: LockMode;
  readonly actor: number;
  readonly actorLocks: readonly LockMode[];
  readonly actorStates: readonly ('idle' | 'running' | 'done')[];
  readonly actorCells: readonly ({ sp: number; index: number } | null)[];
}

const VM_OP = OPS.indexOf('vm');
const RACE_OP = OPS.indexOf('race');
const NONE = 0xffffffff;

export class Mirror {
  readonly sps: MirrorSp[] = [];
  /** The root each vCPU runs on (null before its first entry), by vCPU index. */
  readonly vcpuRoots: (number | null)[] = [];
  readonly memslots: MirrorMemslot[] = [];
  config: VmConfig;
  readonly pages = [0, 0, 0, 0];
  nxLpageSplits = 0;
  /** Events an imported trace lost before the cursor: the structure shown is uncertain. */
  lostEvents = 0;
  readonly counters: Counters = zeroCounters();
  /** Events applied so far: the cursor. */
  cursor = 0;
  /** The entry the tdp_iter last visited in the current operation (null outside a walk). */
  iter: { sp: number; index: number } | null = null;
  /** mmu_lock as the operation at the cursor holds it. */
  lock: LockMode = 'none';
  /** In a race: the actor whose events come now (-1 outside a race), and mmu_lock by actor (an
   * actor holding it is inside its RCU read-side section too). */
  actor = -1;
  readonly actorLocks: LockMode[] = [];
  /** In a race, by actor: not started, running its statement, or done. */
  readonly actorStates: ('idle' | 'running' | 'done')[] = [];
  /** In a race, by actor: the entry it last read, visited or wrote (its cursor on the picture). */
  actorCells: ({ sp: number; index: number } | null)[] = [];
  private readonly configs: VmConfig[] = [];
  /** Tables whose SPTEs changed since the last checkpoint() (tracked only when asked for). */
  private readonly dirty: Set<number> | null;

  constructor(config: Partial<VmConfig> = {}, opts: { trackChanges?: boolean } = {}) {
    this.config = { ...DEFAULT_CONFIG, ...config };
    this.dirty = opts.trackChanges ? new Set() : null;
  }

  /**
   * The state at the cursor, to restore() later. Built on a mirror made with trackChanges, in one
   * forward pass: a table untouched since `prev` shares prev's copy of its SPTEs.
   */
  checkpoint(prev: MirrorCheckpoint | null): MirrorCheckpoint {
    const dirty = this.dirty;
    const sps = this.sps.map((sp) => {
      const old = prev?.sps[sp.id];
      const same = old !== undefined && dirty !== null && !dirty.has(sp.id);
      return {
        ...sp,
        borrowed: false,
        spt: same ? old.spt : sp.spt.slice(),
        unknown: same ? old.unknown : (sp.unknown?.slice() ?? null),
      };
    });
    dirty?.clear();
    return {
      cursor: this.cursor,
      sps,
      vcpuRoots: [...this.vcpuRoots],
      memslots: this.memslots.map((m) => ({ ...m })),
      config: { ...this.config },
      configs: this.configs.map((c) => ({ ...c })),
      pages: [...this.pages],
      nxLpageSplits: this.nxLpageSplits,
      lostEvents: this.lostEvents,
      counters: { ...this.counters },
      iter: this.iter && { ...this.iter },
      lock: this.lock,
      actor: this.actor,
      actorLocks: [...this.actorLocks],
      actorStates: [...this.actorStates],
      actorCells: this.actorCells.map((c) => c && { ...c }),
    };
  }

  /** Become the state a checkpoint holds (copies: the checkpoint stays as it was). */
  restore(cp: MirrorCheckpoint): void {
    const fill = <T>(to: T[], from: readonly T[]) => {
      to.length = 0;
      to.push(...from);
    };
    this.sps.length = 0;
    // Thousands of tables: their SPTEs are copied only when an event writes them.
    for (const sp of cp.sps) this.sps.push({ ...sp, borrowed: true });
    fill(this.vcpuRoots, cp.vcpuRoots);
    fill(
      this.memslots,
      cp.memslots.map((m) => ({ ...m })),
    );
    this.config = { ...cp.config };
    fill(
      this.configs,
      cp.configs.map((c) => ({ ...c })),
    );
    fill(this.pages, cp.pages);
    this.nxLpageSplits = cp.nxLpageSplits;
    this.lostEvents = cp.lostEvents;
    Object.assign(this.counters, cp.counters);
    this.cursor = cp.cursor;
    this.iter = cp.iter && { ...cp.iter };
    this.lock = cp.lock;
    this.actor = cp.actor;
    fill(this.actorLocks, cp.actorLocks);
    fill(this.actorStates, cp.actorStates);
    this.actorCells = cp.actorCells.map((c) => c && { ...c });
    for (const sp of this.sps) this.dirty?.add(sp.id);
  }

  readonly spOf = (id: number): MirrorSp => {
    const sp = this.sps[id];
    if (!sp) throw new RangeError(`mirror has no shadow page ${id}`);
    return sp;
  };

  /** vCPU 0's root: the one the pictures mark. */
  get vcpuRoot(): number | null {
    return this.vcpuRoots[0] ?? null;
  }

  /** The vCPUs running on root `id`. */
  vcpusOn(id: number): number[] {
    const on: number[] = [];
    this.vcpuRoots.forEach((r, v) => {
      if (r === id) on.push(v);
    });
    return on;
  }

  stats(): Stats {
    return statsOf(this.pages, this.nxLpageSplits);
  }

  /** tdp_mmu_roots as the kernel orders it: newest first. */
  roots(): MirrorSp[] {
    return this.sps.filter((s) => s.linked && s.parent === null).sort((a, b) => b.id - a.id);
  }

  /** The NX list, oldest (next to recover) first. */
  nxList(): MirrorSp[] {
    return this.sps.filter((s) => s.nxDisallowed).sort((a, b) => a.nxSeq - b.nxSeq);
  }

  /** Move the cursor to `target` (0..src.length), applying or undoing events one by one. */
  seek(src: WordSource, target: number): void {
    while (this.cursor < target) this.forward(src);
    while (this.cursor > target) this.backward(src);
  }

  forward(src: WordSource): void {
    this.apply(src, this.cursor, 1);
    this.cursor++;
  }

  backward(src: WordSource): void {
    this.cursor--;
    this.apply(src, this.cursor, -1);
  }

  /** The running actor's cursor moves to the entry event i names (in a race only). */
  private moveActorCell(src: WordSource, i: number, fwd: boolean): void {
    if (this.actor < 0) return;
    if (fwd) this.actorCells[this.actor] = { sp: src.word(i, 1), index: src.word(i, 2) & 0x3ff };
    else this.actorCells = actorCellsBefore(src, i, this.actor);
  }

  private moveIter(src: WordSource, i: number, fwd: boolean): void {
    this.iter = fwd
      ? { sp: src.word(i, 1), index: src.word(i, 2) & 0x3ff }
      : this.iterBefore(src, i);
  }

  /** Where the iterator stood before event i: the last visit since its operation began. */
  private iterBefore(src: WordSource, i: number): { sp: number; index: number } | null {
    for (let j = i - 1; j >= 0; j--) {
      const kind = eventKind(src, j);
      if (kind === EV.opBegin) return null;
      if (kind === EV.iterStep || kind === EV.iterUp)
        return { sp: src.word(j, 1), index: src.word(j, 2) & 0x3ff };
    }
    return null;
  }

  private apply(src: WordSource, i: number, dir: 1 | -1): void {
    const w = (k: number) => src.word(i, k);
    const w0 = w(0);
    const kind = w0 & 0xff;
    const c = this.counters;
    c.spte_reads += dir * (w0 >>> 8);
    const fwd = dir === 1;
    switch (kind) {
      case EV.opBegin:
        // The iterator's mark lasts until the next operation starts.
        if (fwd) this.iter = null;
        else this.iter = this.iterBefore(src, i);
        if (w(1) === RACE_OP) {
          this.actor = -1;
          this.actorStates.length = 0;
          this.actorCells = [];
        }
        if (w(1) === VM_OP) {
          if (fwd) {
            this.configs.push(this.config);
            this.config = {
              levels: w(3) === 5 ? 5 : 4,
              recoveryRatio: w(5),
              nxHugePages: (w(7) & 1) === 1,
              physBits: (w(7) >>> 8) & 0xff,
              // Logs from before vcpus= carry 0 here: one vCPU.
              vcpus: Math.max(1, (w(7) >>> 16) & 0xff),
              kernel: KERNELS[w(7) >>> OP_KERNEL_SHIFT] ?? DEFAULT_CONFIG.kernel,
            };
          } else {
            this.config = this.configs.pop() ?? this.config;
          }
        }
        break;
      case EV.spteChanged: {
        const sp = this.spOf(w(1));
        const index = w(2) & 0x3ff;
        const [toLo, toHi] = fwd ? [w(5), w(6)] : [w(3), w(4)];
        if (sp.borrowed) {
          sp.spt = sp.spt.slice();
          sp.unknown = sp.unknown?.slice() ?? null;
          sp.borrowed = false;
        }
        sp.spt[2 * index] = toLo;
        sp.spt[2 * index + 1] = toHi;
        this.dirty?.add(sp.id);
        this.moveActorCell(src, i, fwd);
        const origin = w(7);
        // What an imported trace implies but no kernel wrote (a first sight, a correction, a freed
        // table's entries) is not counted as a write.
        if (origin !== TR_SEEN && origin !== TR_MISMATCH && origin !== TR_GONE) {
          c.spte_writes += dir;
          if ((w(2) >>> 16) & SC_ATOMIC) c.spte_atomic += dir;
          if (isRemovedSpte(w(5) | 0, w(6) | 0)) c.spte_frozen += dir;
        }
        if (origin === TR_SEEN && sp.unknown) sp.unknown[index] = fwd ? 0 : 1;
        // An imported entry's first sight (or a correction) counts like the kernel's own change.
        if (
          (w(2) >>> 16) & SC_HANDLED ||
          origin === TR_SEEN ||
          origin === TR_MISMATCH ||
          origin === TR_GONE
        ) {
          // The page stats move exactly where handle_changed_spte() moves them: on a leafness change.
          const wasLeaf = isShadowPresent(w(3)) && isLastSpte(w(3), sp.level);
          const isLeaf = isShadowPresent(w(5)) && isLastSpte(w(5), sp.level);
          if (wasLeaf !== isLeaf)
            this.pages[sp.level] = (this.pages[sp.level] ?? 0) + dir * (isLeaf ? 1 : -1);
        }
        break;
      }
      case EV.iterStep:
        c.iter_steps += dir;
        this.moveIter(src, i, fwd);
        this.moveActorCell(src, i, fwd);
        break;
      case EV.iterUp:
        this.moveIter(src, i, fwd);
        this.moveActorCell(src, i, fwd);
        break;
      case EV.spAllocated:
        if (fwd) {
          const id = w(1);
          const spt = new Uint32Array(1024);
          // 6.10+: a fresh table is full of SHADOW_NONPRESENT_VALUE.
          if (w(6) & SPA_FILLED) for (let k = 1; k < 1024; k += 2) spt[k] = HI_BIT63 >>> 0;
          this.sps[id] = {
            id,
            gfn: join32(w(4), w(5)),
            level: w(6) & 0xff,
            parent: w(2) === NONE ? null : w(2),
            parentIndex: w(3),
            rootId: w(2) === NONE ? id : this.spOf(w(2)).rootId,
            spt,
            linked: false,
            freed: false,
            invalid: false,
            rootCount: 0,
            nxDisallowed: false,
            nxSeq: 0,
            unknown: w(6) & SPA_UNKNOWN ? new Uint8Array(512).fill(1) : null,
          };
        } else {
          this.sps.length = w(1);
        }
        c.sp_allocated += dir;
        break;
      case EV.spLinked:
        this.spOf(w(1)).linked = fwd;
        break;
      case EV.spUnlinked:
        this.spOf(w(1)).linked = !fwd;
        break;
      case EV.spFreed:
        this.spOf(w(1)).freed = fwd;
        c.sp_freed += dir;
        break;
      case EV.nxAccounted: {
        const sp = this.spOf(w(1));
        sp.nxDisallowed = fwd;
        sp.nxSeq = i;
        this.nxLpageSplits += dir;
        break;
      }
      case EV.nxUnaccounted: {
        const sp = this.spOf(w(1));
        sp.nxDisallowed = !fwd;
        sp.nxSeq = w(2);
        this.nxLpageSplits -= dir;
        break;
      }
      case EV.rootInvalidated:
        this.spOf(w(1)).invalid = fwd;
        break;
      case EV.rootRefcount:
        this.spOf(w(1)).rootCount = fwd ? w(3) : w(2);
        break;
      case EV.vcpuRoot: {
        const v = fwd ? w(2) : w(1);
        this.vcpuRoots[w(3)] = v === NONE ? null : v;
        break;
      }
      case EV.tlbFlush:
        c.tlb_flushes += dir;
        if (w(1) === 1) c.tlb_flushes_ranged += dir;
        else c.tlb_flushes_full += dir;
        break;
      case EV.fault:
        c.faults += dir;
        // The fault path holds mmu_lock for read until its faultDone; it is entered unlocked. In a
        // race the scheduler's mmuLock events say who holds it.
        if (this.actor < 0) this.lock = fwd ? 'read' : 'none';
        break;
      case EV.faultDone: {
        if (this.actor < 0) this.lock = fwd ? 'none' : 'read';
        const f = w(6);
        if (f & FD_PF_FIXED) c.pf_fixed += dir;
        if (f & FD_PF_SPURIOUS) c.pf_spurious += dir;
        if (f & FD_PF_TAKEN) c.pf_taken += dir;
        if (f & FD_PF_EMULATE) c.pf_emulate += dir;
        if (f & FD_PF_MMIO_SPTE_CREATED) c.pf_mmio_spte_created += dir;
        if (f & FD_PF_RETRY) c.pf_retry += dir;
        if (f & FD_FROZEN_SEEN) c.frozen_seen += dir;
        break;
      }
      case EV.mmuLock: {
        const mode = LOCKS[fwd ? w(1) : w(2)] ?? 'none';
        // Word 3 names the actor (index + 1) in a race; the lock is then the strongest one held.
        if (w(3) > 0) {
          this.actorLocks[w(3) - 1] = mode;
          const held = this.actorLocks;
          this.lock = held.includes('write') ? 'write' : held.includes('read') ? 'read' : 'none';
        } else this.lock = mode;
        break;
      }
      case EV.opEnd:
        // A race's end names its last actor (word 5, index + 1), so stepping back restores it.
        if (w(1) === RACE_OP) {
          this.actor = fwd ? -1 : w(5) - 1;
          this.actorCells = fwd ? [] : actorCellsBefore(src, i, this.actor);
          this.actorStates.length = 0;
          if (!fwd) this.actorStates.push(...actorStatesBefore(src, i, w(4)));
        }
        break;
      case EV.actorOp:
        this.actorStates[w(1)] = fwd
          ? w(2) === 1
            ? 'done'
            : 'running'
          : w(2) === 1
            ? 'running'
            : 'idle';
        break;
      case EV.traceLost:
        this.lostEvents += dir * w(2);
        break;
      case EV.cmpxchgFailed:
        c.cmpxchg_failed += dir;
        this.moveActorCell(src, i, fwd);
        break;
      case EV.actor:
        this.actor = fwd ? w(1) : w(2) === NONE ? -1 : w(2);
        break;
      case EV.splitStats: {
        const level = this.spOf(w(1)).level;
        this.pages[level] = (this.pages[level] ?? 0) + dir * 512;
        break;
      }
      case EV.memslotAdded:
        if (fwd) {
          this.memslots.push({
            id: w(1),
            baseGfn: join32(w(3), w(4)),
            npages: join32(w(5), w(6)),
            backingLevel: w(7),
          });
        } else {
          this.memslots.pop();
        }
        break;
      default:
        break;
    }
  }
}
