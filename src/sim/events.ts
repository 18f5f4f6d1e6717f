// Decoding the log into plain, structured-clone-safe event objects (SPTEs as bigint).
import {
  EV,
  WORDS,
  join32,
  NONE,
  OP_KERNEL_SHIFT,
  SC_ATOMIC,
  SC_HANDLED,
  SC_SHARED,
  STEP_DOWN,
  STEP_RESTART,
  SPA_FILLED,
  SPA_UNKNOWN,
  STEP_SIDE,
} from './event-log.ts';
import { pagesPerHpage } from './geometry.ts';
import {
  FAULT_TYPES,
  LOCK_MODES as LOCKS,
  OPS,
  RET_PF_NAMES,
  STRATEGIES,
  WARNS,
  ZAP_MODES,
  type FaultType,
  type LockMode,
  type OpName,
  type ZapMode,
  type ZapStrategy,
} from './names.ts';
import { DEFAULT_KERNEL, KERNELS, type KernelId } from './profile.ts';
import { toBig } from './spte.ts';

/** Anything that can hand out event words: the live EventLog, or a batch received from a worker. */
export interface WordSource {
  readonly length: number;
  word(i: number, w: number): number;
}

/** What decoding needs to know of a shadow page (fixed at allocation). */
export interface SpMeta {
  gfn: number;
  level: number;
  rootId: number;
}
export type SpLookup = (id: number) => SpMeta;

export type IterStepKind = 'start' | 'down' | 'side' | 'restart';

/** Where an SPTE write comes from: the kernel (a run), or what an imported trace implies. */
export type SpteOrigin = 'kernel' | 'seen' | 'split' | 'unfreeze' | 'mismatch' | 'gone';
const ORIGINS: SpteOrigin[] = ['kernel', 'seen', 'split', 'unfreeze', 'mismatch', 'gone'];

export type SimEvent = { reads: number } & (
  | {
      type: 'opBegin';
      op: OpName;
      line: number;
      a: number;
      b: number;
      c: number;
      /** The kernel profile the operation ran under. */
      kernel: KernelId;
    }
  | { type: 'opEnd'; op: OpName; result: number; extra: number; extra2: number }
  | {
      type: 'spteChanged';
      root: number;
      sp: number;
      index: number;
      gfn: number;
      level: number;
      old: bigint;
      new: bigint;
      handled: boolean;
      atomic: boolean;
      shared: boolean;
      origin: SpteOrigin;
    }
  | {
      type: 'iterStep';
      root: number;
      sp: number;
      index: number;
      gfn: number;
      level: number;
      step: IterStepKind;
      spte: bigint;
    }
  | { type: 'iterUp'; sp: number; index: number; gfn: number; level: number; spte: bigint }
  | {
      type: 'spAllocated';
      sp: number;
      parent: number | null;
      parentIndex: number;
      gfn: number;
      level: number;
      /** The table came filled with SHADOW_NONPRESENT_VALUE (6.10+). */
      filled: boolean;
      /** Implied by an imported trace: its entries are unknown until the trace shows them. */
      unknown: boolean;
    }
  | { type: 'traceLost'; cpu: number; count: number; line: number }
  | {
      type: 'spLinked';
      sp: number;
      /** An imported trace implies the table was linked before it began (no link was seen). */
      implied: boolean;
    }
  | { type: 'spUnlinked' | 'spFreed' | 'nxAccounted' | 'rootInvalidated'; sp: number }
  | { type: 'nxUnaccounted'; sp: number; seq: number }
  | { type: 'tlbFlush'; ranged: boolean; gfn: number; pages: number }
  | { type: 'warn'; code: number; message: string; sp: number | null }
  | { type: 'rootRefcount'; sp: number; old: number; new: number }
  | { type: 'vcpuRoot'; old: number | null; new: number; vcpu: number }
  | { type: 'fault'; gfn: number; access: FaultType }
  | {
      type: 'faultDone';
      gfn: number;
      ret: string;
      goalLevel: number;
      reqLevel: number;
      /** The vCPU stats the fault bumped (FD_* bits). */
      stats: number;
    }
  | { type: 'mmuLock'; mode: LockMode; was: LockMode }
  | { type: 'splitStats'; sp: number; level: number; delta: number }
  | { type: 'memslotAdded'; slot: number; baseGfn: number; npages: number; backingLevel: number }
  | {
      type: 'cmpxchgFailed';
      sp: number;
      index: number;
      gfn: number;
      level: number;
      expected: bigint;
      current: bigint;
    }
  | { type: 'actor'; actor: number; was: number }
  | { type: 'actorOp'; actor: number; end: boolean; line: number; result: number }
  | {
      type: 'nxRecoverPick';
      sp: number;
      /** What kvm_tdp_mmu_zap_sp() returned (true: something was zapped, a flush is due). */
      returned: boolean;
      rootInvalid: boolean;
      /** The sp is still accounted after the zap: the zap did not reach it. */
      stillListed: boolean;
    }
);

const STEPS: IterStepKind[] = [];
STEPS[0] = 'start';
STEPS[STEP_DOWN] = 'down';
STEPS[STEP_SIDE] = 'side';
STEPS[STEP_RESTART] = 'restart';

const opName = (code: number): OpName => OPS[code] ?? 'vm';
const orNull = (v: number): number | null => (v === NONE ? null : v);

export function decodeEvent(src: WordSource, i: number, spOf: SpLookup): SimEvent {
  const w = (k: number) => src.word(i, k);
  const w0 = w(0);
  const kind = w0 & 0xff;
  const reads = w0 >>> 8;
  switch (kind) {
    case EV.opBegin:
      return {
        reads,
        type: 'opBegin',
        op: opName(w(1)),
        line: w(2),
        a: join32(w(3), w(4)),
        b: join32(w(5), w(6)),
        c: w(7) & ((1 << OP_KERNEL_SHIFT) - 1),
        kernel: KERNELS[w(7) >>> OP_KERNEL_SHIFT] ?? DEFAULT_KERNEL,
      };
    case EV.opEnd:
      return { reads, type: 'opEnd', op: opName(w(1)), result: w(2), extra: w(3), extra2: w(4) };
    case EV.spteChanged: {
      const sp = spOf(w(1));
      const index = w(2) & 0x3ff;
      const flags = w(2) >>> 16;
      return {
        reads,
        type: 'spteChanged',
        root: sp.rootId,
        sp: w(1),
        index,
        gfn: sp.gfn + index * pagesPerHpage(sp.level),
        level: sp.level,
        old: toBig(w(3), w(4)),
        new: toBig(w(5), w(6)),
        handled: (flags & SC_HANDLED) !== 0,
        atomic: (flags & SC_ATOMIC) !== 0,
        shared: (flags & SC_SHARED) !== 0,
        origin: ORIGINS[w(7)] ?? 'kernel',
      };
    }
    case EV.iterStep:
    case EV.iterUp: {
      const sp = spOf(w(1));
      const index = w(2) & 0x3ff;
      const level = (w(2) >>> 10) & 0xf;
      const base = {
        reads,
        sp: w(1),
        index,
        level,
        gfn: sp.gfn + index * pagesPerHpage(level),
        spte: toBig(w(3), w(4)),
      };
      return kind === EV.iterUp
        ? { ...base, type: 'iterUp' }
        : { ...base, type: 'iterStep', root: sp.rootId, step: STEPS[w(2) >>> 16] ?? 'start' };
    }
    case EV.spAllocated:
      return {
        reads,
        type: 'spAllocated',
        sp: w(1),
        parent: orNull(w(2)),
        parentIndex: w(3),
        gfn: join32(w(4), w(5)),
        level: w(6) & 0xff,
        filled: (w(6) & SPA_FILLED) !== 0,
        unknown: (w(6) & SPA_UNKNOWN) !== 0,
      };
    case EV.traceLost:
      return { reads, type: 'traceLost', cpu: w(1), count: w(2), line: w(3) };
    case EV.spLinked:
      return { reads, type: 'spLinked', sp: w(1), implied: w(2) === 1 };
    case EV.spUnlinked:
      return { reads, type: 'spUnlinked', sp: w(1) };
    case EV.spFreed:
      return { reads, type: 'spFreed', sp: w(1) };
    case EV.nxAccounted:
      return { reads, type: 'nxAccounted', sp: w(1) };
    case EV.rootInvalidated:
      return { reads, type: 'rootInvalidated', sp: w(1) };
    case EV.nxUnaccounted:
      return { reads, type: 'nxUnaccounted', sp: w(1), seq: w(2) };
    case EV.tlbFlush:
      return {
        reads,
        type: 'tlbFlush',
        ranged: w(1) === 1,
        gfn: join32(w(3), w(4)),
        pages: join32(w(5), w(6)),
      };
    case EV.warn:
      return { reads, type: 'warn', code: w(1), message: WARNS[w(1)] ?? 'WARN', sp: orNull(w(2)) };
    case EV.rootRefcount:
      return { reads, type: 'rootRefcount', sp: w(1), old: w(2), new: w(3) };
    case EV.vcpuRoot:
      return { reads, type: 'vcpuRoot', old: orNull(w(1)), new: w(2), vcpu: w(3) };
    case EV.fault:
      return { reads, type: 'fault', gfn: join32(w(3), w(4)), access: FAULT_TYPES[w(1)] ?? 'read' };
    case EV.faultDone:
      return {
        reads,
        type: 'faultDone',
        ret: RET_PF_NAMES[w(1)] ?? 'RET_PF_INVALID',
        goalLevel: w(2),
        gfn: join32(w(3), w(4)),
        reqLevel: w(5),
        stats: w(6),
      };
    case EV.mmuLock:
      return { reads, type: 'mmuLock', mode: LOCKS[w(1)] ?? 'none', was: LOCKS[w(2)] ?? 'none' };
    case EV.splitStats: {
      const sp = spOf(w(1));
      return { reads, type: 'splitStats', sp: w(1), level: sp.level, delta: 512 };
    }
    case EV.memslotAdded:
      return {
        reads,
        type: 'memslotAdded',
        slot: w(1),
        baseGfn: join32(w(3), w(4)),
        npages: join32(w(5), w(6)),
        backingLevel: w(7),
      };
    case EV.nxRecoverPick:
      return {
        reads,
        type: 'nxRecoverPick',
        sp: w(1),
        returned: w(2) === 1,
        rootInvalid: w(3) === 1,
        stillListed: w(4) === 1,
      };
    case EV.cmpxchgFailed: {
      const sp = spOf(w(1));
      const index = w(2) & 0x3ff;
      return {
        reads,
        type: 'cmpxchgFailed',
        sp: w(1),
        index,
        level: sp.level,
        gfn: sp.gfn + index * pagesPerHpage(sp.level),
        expected: toBig(w(3), w(4)),
        current: toBig(w(5), w(6)),
      };
    }
    case EV.actor:
      return { reads, type: 'actor', actor: w(1), was: w(2) === NONE ? -1 : w(2) };
    case EV.actorOp:
      return { reads, type: 'actorOp', actor: w(1), end: w(2) === 1, line: w(3), result: w(4) };
    default:
      throw new Error(`event ${i}: unknown kind ${kind}`);
  }
}

/** Names for an operation's small arguments, for explanations and logs. */
export function opArgs(
  op: OpName,
  c: number,
): {
  type?: FaultType;
  vcpu?: number;
  level?: number;
  strategy?: ZapStrategy;
  mode?: ZapMode;
  /** recover_nx what-ifs: the pointer check dropped, the read lock around a direct zap. */
  checkOff?: boolean;
  readLock?: boolean;
} {
  switch (op) {
    case 'access':
    case 'fault':
      return { type: FAULT_TYPES[c & 0xff] ?? 'read', vcpu: (c >>> 8) & 0xff };
    case 'shatter':
      return { level: c };
    case 'zap_sp':
      return { level: c & 0xff, strategy: STRATEGIES[c >>> 8] ?? 'direct' };
    case 'zap_gfn_range':
      return { mode: ZAP_MODES[c] ?? 'leafs' };
    case 'recover_nx':
      return {
        strategy: STRATEGIES[c & 0xff] ?? 'direct',
        checkOff: (c & (1 << 8)) !== 0,
        readLock: (c & (1 << 9)) !== 0,
      };
    default:
      return {};
  }
}

/** The kind of event `i` (EV.*), without decoding it. */
export const eventKind = (src: WordSource, i: number): number => src.word(i, 0) & 0xff;

/** The kind of the k-th event of a raw batch of words (a hot loop over a batch as it arrives). */
export const batchKind = (words: Uint32Array, k: number): number => (words[k * WORDS] ?? 0) & 0xff;

/**
 * The latest SPTE change (or failed cmpxchg) among events [start of i's operation, i] in a table `accept`s (one
 * still on the picture), looking back at most `limit` events: what the callout points at.
 */
export function lastChangeInOp(
  src: WordSource,
  spOf: SpLookup,
  i: number,
  accept: (sp: number) => boolean = () => true,
  limit = 4096,
): Extract<SimEvent, { type: 'spteChanged' | 'cmpxchgFailed' }> | null {
  for (let j = i; j >= 0 && j > i - limit; j--) {
    const kind = eventKind(src, j);
    if (kind === EV.spteChanged || kind === EV.cmpxchgFailed) {
      const e = decodeEvent(src, j, spOf);
      if ((e.type === 'spteChanged' || e.type === 'cmpxchgFailed') && accept(e.sp)) return e;
    }
    if (kind === EV.opBegin) return null;
  }
  return null;
}
