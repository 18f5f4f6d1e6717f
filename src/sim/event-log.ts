// The event log: a compact, typed-array-backed record of everything the core does. Each event is
// eight 32-bit words (32 bytes) in fixed-size chunks, so a million faults never allocate an object
// per event. Word 0 holds the kind and the SPTE reads done since the previous event, so counters are
// a prefix sum over the log and any cursor position has exact stats.

export const EV = {
  opBegin: 0,
  opEnd: 1,
  spteChanged: 2,
  iterStep: 3,
  iterUp: 4,
  spAllocated: 5,
  spLinked: 6,
  nxAccounted: 7,
  nxUnaccounted: 8,
  spUnlinked: 9,
  spFreed: 10,
  tlbFlush: 11,
  warn: 12,
  rootInvalidated: 13,
  rootRefcount: 14,
  vcpuRoot: 15,
  fault: 16,
  faultDone: 17,
  splitStats: 18,
  memslotAdded: 19,
  nxRecoverPick: 20,
  mmuLock: 21,
  /** A cmpxchg found another value than the one read: sp, index|level<<10, expected, current. */
  cmpxchgFailed: 22,
  /** A race switched to another actor: actor, previous actor (NONE for the race's first). */
  actor: 23,
  /** A race's actor began (w2 0) or ended (w2 1) its statement: actor, 0|1, line, result. */
  actorOp: 24,
  /** An imported trace lost events here (`CPU:N [LOST N EVENTS]`): cpu, count, trace line. */
  traceLost: 25,
} as const;

export const WORDS = 8;
/** Events per storage chunk (2 MiB of words): the unit a worker hands its log over in. */
export const CHUNK_EVENTS = 1 << 16;
const CHUNK_WORDS = CHUNK_EVENTS * WORDS;
export const NONE = 0xffffffff;
const MAX_READS = 0xffffff;

/** SPTE-changed flags (word 2, bits 16..). */
export const SC_HANDLED = 1; // handle_changed_spte() ran: stats, recursion, the tracepoint
export const SC_ATOMIC = 2; // cmpxchg / xchg rather than a plain store
export const SC_SHARED = 4; // mmu_lock held for read

/** opBegin word 7: the kernel profile (index in KERNELS) sits above the operation's own bits. */
export const OP_KERNEL_SHIFT = 24;

/** A vm opBegin's word 7, bit 1: the VM is an imported trace's (its settings are not known). */
export const VM_FROM_TRACE = 2;

/** spAllocated word 6, above the level: the table came filled with SHADOW_NONPRESENT_VALUE. */
export const SPA_FILLED = 1 << 8;
/** spAllocated word 6: a table an imported trace implies, whose entries are unknown until seen. */
export const SPA_UNKNOWN = 1 << 9;

/** spteChanged word 7, in an imported trace: where a write that the trace did not print comes from. */
export const TR_SEEN = 1; // first sight of the entry: its old_spte was already there
export const TR_SPLIT = 2; // a split's child, as make_huge_page_split_spte() computes it
export const TR_UNFREEZE = 3; // the untraced non-present store after a freeze
export const TR_MISMATCH = 4; // the trace's old_spte disagrees with what it showed before
export const TR_GONE = 5; // a table was freed while the trace still showed it mapping this

/** faultDone word 6: which vCPU stats the fault bumped (the profile decides which exist). */
export const FD_PF_FIXED = 1;
export const FD_PF_SPURIOUS = 2;
export const FD_PF_TAKEN = 4;
export const FD_PF_EMULATE = 8;
export const FD_PF_MMIO_SPTE_CREATED = 16;
/** The fault returned RET_PF_RETRY (the model's pf_retry), after meeting a frozen SPTE. */
export const FD_PF_RETRY = 32;
export const FD_FROZEN_SEEN = 64;

/** Iterator step kinds (word 2, bits 16..). */
export const STEP_START = 0;
export const STEP_DOWN = 1;
export const STEP_SIDE = 2;
export const STEP_RESTART = 3;

export class EventLog {
  // Int32 storage: the core's SPTE halves are int32, so storing them never boxes a number.
  /** null: handed over with take() (its buffer went to the page). */
  private chunks: (Int32Array | null)[] = [];
  private cur: Int32Array = new Int32Array(0);
  private off = CHUNK_WORDS;
  private n = 0;
  /** SPTE reads done since the last event; attached to the next one. */
  pendingReads = 0;

  get length(): number {
    return this.n;
  }

  /** Bytes held by the typed arrays (what the benchmark reports per event). */
  get byteLength(): number {
    return this.chunks.reduce((n, c) => n + (c ? c.byteLength : 0), 0);
  }

  push(
    kind: number,
    w1: number,
    w2: number,
    w3: number,
    w4: number,
    w5: number,
    w6: number,
    w7: number,
  ): number {
    if (this.off === CHUNK_WORDS) {
      this.cur = new Int32Array(CHUNK_WORDS);
      this.chunks.push(this.cur);
      this.off = 0;
    }
    const reads = this.pendingReads > MAX_READS ? MAX_READS : this.pendingReads;
    this.pendingReads -= reads;
    const c = this.cur;
    const o = this.off;
    c[o] = kind | (reads << 8);
    c[o + 1] = w1;
    c[o + 2] = w2;
    c[o + 3] = w3;
    c[o + 4] = w4;
    c[o + 5] = w5;
    c[o + 6] = w6;
    c[o + 7] = w7;
    this.off = o + WORDS;
    return this.n++;
  }

  /** Word `w` of event `i`, as an unsigned 32-bit value. */
  word(i: number, w: number): number {
    const chunk = this.chunks[Math.floor(i / CHUNK_EVENTS)];
    if (!chunk || i >= this.n) {
      throw new RangeError(
        chunk === null ? `event ${i} was handed over` : `no event ${i} (log has ${this.n})`,
      );
    }
    return (chunk[(i % CHUNK_EVENTS) * WORDS + w] ?? 0) >>> 0;
  }

  kind(i: number): number {
    return this.word(i, 0) & 0xff;
  }

  reads(i: number): number {
    return this.word(i, 0) >>> 8;
  }

  /**
   * The full chunk holding events [first, first + CHUNK_EVENTS), handed over whole: its buffer
   * can be transferred to the page, and this log no longer reads those events (one copy).
   */
  take(first: number): Uint32Array {
    const c = first / CHUNK_EVENTS;
    const chunk = this.chunks[c];
    if (!Number.isInteger(c) || !chunk || first + CHUNK_EVENTS > this.n) {
      throw new RangeError(`events from ${first} are not a full chunk of this log`);
    }
    this.chunks[c] = null;
    return new Uint32Array(chunk.buffer);
  }

  /** The raw words of events [from, to), for shipping a batch across the worker boundary. */
  slice(from: number, to: number): Uint32Array {
    const out = new Uint32Array((to - from) * WORDS);
    let i = from;
    while (i < to) {
      const c = Math.floor(i / CHUNK_EVENTS);
      const chunk = this.chunks[c];
      if (!chunk) throw new RangeError(`no event ${i} (log has ${this.n})`);
      const start = i % CHUNK_EVENTS;
      const n = Math.min(to - i, CHUNK_EVENTS - start);
      out.set(new Uint32Array(chunk.buffer, start * WORDS * 4, n * WORDS), (i - from) * WORDS);
      i += n;
    }
    return out;
  }
}

/** A number up to 2^53 split into two words. */
export const lo32 = (n: number): number => (n <= 0xffffffff ? n : n % 0x100000000);
export const hi32 = (n: number): number => (n <= 0xffffffff ? 0 : Math.floor(n / 0x100000000));
export const join32 = (lo: number, hi: number): number => hi * 0x100000000 + lo;
