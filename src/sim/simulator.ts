// The simulator's front door: validates a request, then runs one kernel operation with its
// opBegin/opEnd events around it. A rejected request throws SimError before anything changes.
import { EV, hi32, lo32, NONE, OP_KERNEL_SHIFT } from './event-log.ts';
import { pagesPerHpage, roundGfnForLevel, sptIndex } from './geometry.ts';
import { Kvm, type Sp } from './kvm.ts';
import {
  ACCESS_RESULTS,
  FAULT_TYPES,
  MAX_VCPUS,
  OPS,
  STRATEGIES,
  VCPU_STATS_6,
  ZAP_MODES,
  type Counters,
  type FaultType,
  type OpName,
  type Stats,
  type VmConfig,
  type ZapStrategy,
} from './names.ts';
import { guestAccess, kvmTdpPageFault } from './ops/page-fault.ts';
import {
  kvmRecoverNxLpages,
  recoverDefaults,
  type RecoverOptions,
  type RecoveryResult,
} from './ops/recover-nx.ts';
import { Race, type ActorSpec, type Chooser } from './race/race.ts';
import {
  kvmTdpMmuInvalidateAllRoots,
  kvmTdpMmuZapInvalidatedRoots,
} from './ops/invalidate-roots.ts';
import { hugeLeafAt, kvmTdpMmuSplitHugePage } from './ops/shatter.ts';
import { kvmZapGfnRange } from './ops/zap-gfn-range.ts';
import { kvmTdpMmuZapSp, zapLock } from './ops/zap-sp.ts';
import { drain } from './pause.ts';
import { KERNELS, type KernelProfile } from './profile.ts';
import { toBig } from './spte.ts';

export class SimError extends Error {
  override name = 'SimError';
}

/** recover_nx's opBegin word: the strategy, then the what-ifs (bit 8 check=off, bit 9 lock=read). */
const recoverCode = (strategy: ZapStrategy, o: RecoverOptions): number =>
  STRATEGIES.indexOf(strategy) |
  (o.check ? 0 : 1 << 8) |
  (o.lock === 'read' && strategy !== 'atomic' ? 1 << 9 : 0);

const OP_CODE = Object.fromEntries(OPS.map((op, i) => [op, i])) as Record<OpName, number>;
const hex = (n: number) => '0x' + n.toString(16);

export class Simulator {
  readonly kvm: Kvm;
  /** True once anything but `vm` ran: the root level and address width are fixed from then on. */
  private started = false;
  /** The script line of the statement running now (0 outside a script). */
  line = 0;

  constructor(config: Partial<VmConfig> = {}) {
    this.kvm = new Kvm(config);
  }

  get config(): VmConfig {
    return this.kvm.config;
  }

  /** The VM's kernel profile, which every operation receives. */
  get profile(): KernelProfile {
    return this.kvm.profile;
  }

  stats(): Stats {
    return this.kvm.stats();
  }

  counters(): Counters {
    return { ...this.kvm.counters };
  }

  /** Any stat, counter or shape fact by name (what `expect` checks). */
  value(name: string): number {
    const k = this.kvm;
    const stats = k.stats() as unknown as Record<string, number>;
    const counters = k.counters as unknown as Record<string, number>;
    if (name in stats) return stats[name] ?? 0;
    if (!this.profile.vcpuStats6 && (VCPU_STATS_6 as readonly string[]).includes(name)) {
      throw new SimError(
        `${name} is a vCPU stat of 6.x kernels; kernel ${this.profile.kernel} does not have it`,
      );
    }
    if (name in counters) return counters[name] ?? 0;
    if (name === 'roots') return k.roots.length;
    if (name === 'invalid_roots') return k.roots.filter((r) => r.invalid).length;
    if (name === 'tables') return k.sps.filter((s) => s.linked && !s.isRoot).length;
    throw new SimError(`unknown stat or counter '${name}'`);
  }

  /** opBegin carries the kernel the operation runs under in the top byte of its last word. */
  private begin(op: OpName, a = 0, b = 0, c = 0, kernel = this.profile.kernel): void {
    if (op !== 'vm') this.started = true;
    const k = KERNELS.indexOf(kernel) << OP_KERNEL_SHIFT;
    this.kvm.emit(EV.opBegin, OP_CODE[op], this.line, lo32(a), hi32(a), lo32(b), hi32(b), c | k);
  }

  private end(op: OpName, result = 0, extra = 0, extra2 = 0, extra3 = 0): void {
    this.kvm.setLock('none');
    // rcu_read_unlock(): the grace period passes and queued tables are freed.
    this.kvm.rcuGracePeriod();
    this.kvm.emit(EV.opEnd, OP_CODE[op], result, extra, extra2, extra3);
  }

  private checkGfn(gfn: number, what = 'gfn'): void {
    if (!Number.isSafeInteger(gfn) || gfn < 0) throw new SimError(`${what} ${gfn} is not a GFN`);
    if (gfn >= this.kvm.maxGfn) {
      throw new SimError(
        `${what} ${hex(gfn)} is beyond the guest physical address width ` +
          `(phys_bits=${this.config.physBits}: GFNs below ${hex(this.kvm.maxGfn)})`,
      );
    }
  }

  private checkVcpu(vcpu: number): void {
    if (!Number.isSafeInteger(vcpu) || vcpu < 0 || vcpu >= this.config.vcpus) {
      throw new SimError(`vcpu ${vcpu}: the VM has vCPUs 0 to ${this.config.vcpus - 1}`);
    }
  }

  vm(config: Partial<VmConfig>): void {
    const shape =
      config.levels !== undefined ||
      config.physBits !== undefined ||
      config.kernel !== undefined ||
      config.vcpus !== undefined;
    if (this.started && shape) {
      throw new SimError(
        'kernel, levels, phys_bits and vcpus can only be set before the paging structure exists',
      );
    }
    if (
      config.vcpus !== undefined &&
      (!Number.isSafeInteger(config.vcpus) || config.vcpus < 1 || config.vcpus > MAX_VCPUS)
    ) {
      throw new SimError(`vcpus=${config.vcpus}: a VM has 1 to ${MAX_VCPUS} vCPUs here`);
    }
    const next = { ...this.config, ...config };
    // kvm_mmu_get_tdp_level(): 5 levels only when the guest needs more than 48 bits.
    if (config.levels === 5 && config.physBits === undefined && next.physBits <= 48) {
      next.physBits = 52;
    }
    if (next.levels === 4 && next.physBits > 48) {
      throw new SimError(`phys_bits=${next.physBits} needs 5-level paging (4 levels map 48 bits)`);
    }
    if (next.levels === 5 && next.physBits <= 48) {
      throw new SimError(
        `levels=5 with phys_bits=${next.physBits}: kvm_mmu_get_tdp_level() uses 4 levels when ` +
          `MAXPHYADDR is 48 bits or less`,
      );
    }
    const nxChanged = next.nxHugePages !== this.config.nxHugePages;
    this.begin(
      'vm',
      next.levels,
      next.recoveryRatio,
      (next.nxHugePages ? 1 : 0) | (next.physBits << 8) | (next.vcpus << 16),
      next.kernel,
    );
    this.kvm.setConfig(next);
    // Flipping nx_huge_pages at run time fast-zaps the VM (set_nx_huge_pages -> kvm_mmu_zap_all_fast).
    if (nxChanged && this.started) {
      const p = this.profile;
      this.kvm.setLock('write');
      kvmTdpMmuInvalidateAllRoots(this.kvm, p);
      this.kvm.setLock('read');
      drain(kvmTdpMmuZapInvalidatedRoots(this.kvm, p));
    }
    this.end('vm');
  }

  memslot(gfn: number, npages: number, backingLevel: number): void {
    this.checkGfn(gfn);
    if (npages <= 0 || gfn + npages > this.kvm.maxGfn) {
      throw new SimError(`memslot ${hex(gfn)}+${hex(npages)} pages does not fit the address width`);
    }
    const clash = this.kvm.overlappingSlot(gfn, gfn + npages);
    if (clash)
      throw new SimError(`memslot overlaps memslot ${clash.id} at gfn ${hex(clash.baseGfn)}`);
    if (backingLevel < 1 || backingLevel > 3) throw new SimError(`backing level ${backingLevel}`);
    // Laid out 1G-aligned one after another, host frames past 2^40 would wrap in the SPTE.
    if (!this.kvm.hostRoomFor(gfn, npages)) {
      throw new SimError(
        `memslot ${hex(gfn)}+${hex(npages)} pages: the host memory behind all memslots would pass ` +
          `2^52 bytes, and an SPTE holds a host PFN of at most 40 bits`,
      );
    }
    this.begin('memslot', gfn, npages, backingLevel);
    this.kvm.addMemslot(gfn, npages, backingLevel);
    this.end('memslot');
  }

  /** The guest touches `gfn`; a page fault happens only if the SPTEs do not permit the access. */
  access(gfn: number, type: FaultType, vcpu = 0): (typeof ACCESS_RESULTS)[number] {
    this.checkGfn(gfn);
    this.checkVcpu(vcpu);
    this.begin('access', gfn, 0, FAULT_TYPES.indexOf(type) | (vcpu << 8));
    const walk = drain(guestAccess(this.kvm, this.profile, gfn, type, vcpu));
    // The entry that ended the CPU's walk, so the outcome can name it.
    const where = walk.sp ? walk.sp.id : NONE;
    this.end('access', ACCESS_RESULTS.indexOf(walk.result), where, walk.index);
    return walk.result;
  }

  /** Force the page-fault path for `gfn`; returns RET_PF_*. */
  fault(gfn: number, type: FaultType, vcpu = 0): number {
    this.checkGfn(gfn);
    this.checkVcpu(vcpu);
    this.begin('fault', gfn, 0, FAULT_TYPES.indexOf(type) | (vcpu << 8));
    const ret = drain(kvmTdpPageFault(this.kvm, this.profile, gfn, type, vcpu));
    this.end('fault', ret);
    return ret;
  }

  /** Split the huge leaf at `level` that maps `gfn` (on every valid root that has one). */
  shatter(gfn: number, level: number): number {
    this.checkGfn(gfn);
    if (level !== 2 && level !== 3) {
      throw new SimError(`level ${level}: only 2M (level 2) and 1G (level 3) leaves can be split`);
    }
    if (!hugeLeafAt(this.kvm, gfn, level)) {
      throw new SimError(`no valid root maps gfn ${hex(gfn)} with a huge leaf at level ${level}`);
    }
    this.begin('shatter', gfn, 0, level);
    // Eager splitting on enabling dirty logging runs under the read lock.
    this.kvm.setLock('read');
    const n = kvmTdpMmuSplitHugePage(this.kvm, this.profile, gfn, level);
    this.end('shatter', n);
    return n;
  }

  /** The live table with role.level = `level` covering `gfn`: the newest root that has one. */
  findSp(gfn: number, level: number): Sp {
    this.checkGfn(gfn);
    const rl = this.kvm.rootLevel;
    if (!Number.isInteger(level) || level < 1 || level >= rl) {
      throw new SimError(
        `level ${level}: zap_sp takes a non-root table, role.level 1..${rl - 1} ` +
          `(role.level ${rl} is the root)`,
      );
    }
    for (const root of this.kvm.roots) {
      const sp = this.kvm.tableAt(root, gfn, level);
      if (sp) return sp;
    }
    throw new SimError(
      `no table with role.level=${level} covers gfn ${hex(gfn)} ` +
        `(range ${hex(roundGfnForLevel(gfn, level + 1))}+${hex(pagesPerHpage(level + 1))})`,
    );
  }

  /**
   * kvm_tdp_mmu_zap_sp() on the table at `level` covering `gfn`, then the caller's flush; the
   * strategy defaults to the profile's own zap.
   */
  zapSp(gfn: number, level: number, strategy = this.profile.zapStrategy): boolean {
    const sp = this.findSp(gfn, level);
    this.begin('zap_sp', gfn, sp.id, level | (STRATEGIES.indexOf(strategy) << 8));
    this.kvm.setLock(zapLock(strategy));
    const flush = drain(kvmTdpMmuZapSp(this.kvm, this.profile, sp, strategy));
    if (flush) this.kvm.flushTlbs();
    this.end('zap_sp', flush ? 1 : 0);
    return flush;
  }

  zapGfnRange(start: number, end: number, mode = this.profile.zapMode): boolean {
    this.checkGfn(start, 'start');
    if (!(end > start) || end > this.kvm.maxGfn) {
      throw new SimError(
        `end ${hex(end)} must be above start ${hex(start)} and at most ${hex(this.kvm.maxGfn)}`,
      );
    }
    this.begin('zap_gfn_range', start, end, ZAP_MODES.indexOf(mode));
    this.kvm.setLock('write');
    const flush = kvmZapGfnRange(this.kvm, this.profile, start, end, mode);
    this.end('zap_gfn_range', flush ? 1 : 0);
    return flush;
  }

  invalidateRoots(): number {
    this.begin('invalidate_roots');
    this.kvm.setLock('write');
    const n = kvmTdpMmuInvalidateAllRoots(this.kvm, this.profile);
    this.end('invalidate_roots', n);
    return n;
  }

  zapInvalidatedRoots(): number {
    this.begin('zap_invalidated_roots');
    this.kvm.setLock('read');
    const n = drain(kvmTdpMmuZapInvalidatedRoots(this.kvm, this.profile));
    this.end('zap_invalidated_roots', n);
    return n;
  }

  /** One run of the recovery worker; the strategy defaults to the profile's own. */
  recoverNx(
    strategy = this.profile.zapStrategy,
    what: Partial<RecoverOptions> = {},
  ): RecoveryResult {
    const opts = this.recoverOptions(strategy, what);
    this.begin('recover_nx', 0, 0, recoverCode(strategy, opts));
    this.kvm.setLock(opts.lock);
    const r = drain(kvmRecoverNxLpages(this.kvm, this.profile, strategy, opts));
    this.end('recover_nx', r.zapped | (r.iterations << 16), r.toZap);
    return r;
  }

  /** The what-ifs a recovery run may take: check=off on the atomic zap, the read lock on direct. */
  recoverOptions(strategy: ZapStrategy, what: Partial<RecoverOptions>): RecoverOptions {
    const opts = { ...recoverDefaults(strategy), ...what };
    if (!opts.check && strategy !== 'atomic') {
      throw new SimError(
        `check=off drops the pointer check of strategy=atomic; ${strategy} has none`,
      );
    }
    if (opts.lock !== zapLock(strategy) && strategy !== 'direct') {
      throw new SimError(
        `lock=${opts.lock} with strategy=${strategy}: only strategy=direct runs under either lock ` +
          `(${strategy} takes mmu_lock for ${zapLock(strategy)})`,
      );
    }
    return opts;
  }

  /**
   * Run actors concurrently, one scheduling point at a time, as `choose` picks them. Each actor's
   * statement is checked as if it ran alone; nothing runs if one is refused.
   */
  race(specs: readonly ActorSpec[], choose: Chooser, afterStep?: (race: Race) => boolean): Race {
    for (const s of specs) {
      const w = s.work;
      if (w.kind === 'recover_nx') this.recoverOptions(w.strategy, w.opts);
      else if (w.kind === 'zap_invalidated_roots') {
        if (this.profile.roots === '5.16') {
          throw new SimError(
            'zapper: 5.16 zaps invalidated roots with zap_gfn_range(), which a race does not interleave; race it on 5.18 or 6.18',
          );
        }
      } else {
        this.checkGfn(w.gfn);
        this.checkVcpu(w.vcpu);
      }
    }
    this.begin('race', specs.length);
    const race = new Race(this.kvm, this.profile, specs);
    race.run(choose, afterStep);
    this.end('race', race.picks.length, race.violations.length, specs.length, race.lastActor + 1);
    return race;
  }

  /** The SPTE at `level` on the path to `gfn` in the vCPU's root, for tests and the inspector. */
  spteAt(gfn: number, level: number): bigint | null {
    const root = this.kvm.vcpuRoots[0] ?? this.kvm.roots[0];
    const sp = root ? this.kvm.tableAt(root, gfn, level) : null;
    if (!sp) return null;
    const i = sptIndex(gfn, level);
    return toBig(sp.spt[2 * i] ?? 0, sp.spt[2 * i + 1] ?? 0);
  }
}
