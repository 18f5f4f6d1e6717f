// The simulator's front door: validates a request, then runs one kernel operation with its
// opBegin/opEnd events around it. A rejected request throws SimError before anything changes.
import { EV, hi32, lo32, NONE } from './event-log.ts';
import { pagesPerHpage, roundGfnForLevel, sptIndex } from './geometry.ts';
import { Kvm, type Sp } from './kvm.ts';
import {
  ACCESS_RESULTS,
  FAULT_TYPES,
  OPS,
  STRATEGIES,
  ZAP_MODES,
  type Counters,
  type FaultType,
  type OpName,
  type Stats,
  type VmConfig,
  type ZapMode,
  type ZapStrategy,
} from './names.ts';
import { guestAccess, kvmTdpPageFault } from './ops/page-fault.ts';
import { kvmRecoverNxLpages, type RecoveryResult } from './ops/recover-nx.ts';
import {
  kvmTdpMmuInvalidateAllRoots,
  kvmTdpMmuZapInvalidatedRoots,
} from './ops/invalidate-roots.ts';
import { hugeLeafAt, kvmTdpMmuSplitHugePage } from './ops/shatter.ts';
import { kvmZapGfnRange } from './ops/zap-gfn-range.ts';
import { kvmTdpMmuZapSp } from './ops/zap-sp.ts';
import { toBig } from './spte.ts';

export class SimError extends Error {
  override name = 'SimError';
}

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
    if (name in counters) return counters[name] ?? 0;
    if (name === 'roots') return k.roots.length;
    if (name === 'invalid_roots') return k.roots.filter((r) => r.invalid).length;
    if (name === 'tables') return k.sps.filter((s) => s.linked && !s.isRoot).length;
    throw new SimError(`unknown stat or counter '${name}'`);
  }

  private begin(op: OpName, a = 0, b = 0, c = 0): void {
    if (op !== 'vm') this.started = true;
    this.kvm.era = 'v5.18';
    this.kvm.emit(EV.opBegin, OP_CODE[op], this.line, lo32(a), hi32(a), lo32(b), hi32(b), c);
  }

  private end(op: OpName, result = 0, extra = 0, extra2 = 0): void {
    // rcu_read_unlock(): the grace period passes and queued tables are freed.
    this.kvm.rcuGracePeriod();
    this.kvm.emit(EV.opEnd, OP_CODE[op], result, extra, extra2);
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

  vm(config: Partial<VmConfig>): void {
    if (this.started && (config.levels !== undefined || config.physBits !== undefined)) {
      throw new SimError('levels and phys_bits can only be set before the paging structure exists');
    }
    const next = { ...this.config, ...config };
    if (next.levels === 4 && next.physBits > 48) {
      throw new SimError(`phys_bits=${next.physBits} needs 5-level paging (4 levels map 48 bits)`);
    }
    const nxChanged = next.nxHugePages !== this.config.nxHugePages;
    this.begin(
      'vm',
      next.levels,
      next.recoveryRatio,
      (next.nxHugePages ? 1 : 0) | (next.physBits << 8),
    );
    this.kvm.setConfig(next);
    // Flipping nx_huge_pages at run time fast-zaps the VM (set_nx_huge_pages -> kvm_mmu_zap_all_fast).
    if (nxChanged && this.started) {
      kvmTdpMmuInvalidateAllRoots(this.kvm);
      kvmTdpMmuZapInvalidatedRoots(this.kvm);
    }
    this.end('vm');
  }

  memslot(gfn: number, npages: number, backingLevel: number): void {
    this.checkGfn(gfn);
    if (npages <= 0 || gfn + npages > this.kvm.maxGfn) {
      throw new SimError(`memslot ${hex(gfn)}+${hex(npages)} pages does not fit the address width`);
    }
    const clash = this.kvm.memslots.find(
      (s) => gfn < s.baseGfn + s.npages && s.baseGfn < gfn + npages,
    );
    if (clash)
      throw new SimError(`memslot overlaps memslot ${clash.id} at gfn ${hex(clash.baseGfn)}`);
    if (backingLevel < 1 || backingLevel > 3) throw new SimError(`backing level ${backingLevel}`);
    this.begin('memslot', gfn, npages, backingLevel);
    this.kvm.addMemslot(gfn, npages, backingLevel);
    this.end('memslot');
  }

  /** The guest touches `gfn`; a page fault happens only if the SPTEs do not permit the access. */
  access(gfn: number, type: FaultType): (typeof ACCESS_RESULTS)[number] {
    this.checkGfn(gfn);
    this.begin('access', gfn, 0, FAULT_TYPES.indexOf(type));
    const walk = guestAccess(this.kvm, gfn, type);
    // The entry that ended the CPU's walk, so the outcome can name it.
    const where = walk.sp ? walk.sp.id : NONE;
    this.end('access', ACCESS_RESULTS.indexOf(walk.result), where, walk.index);
    return walk.result;
  }

  /** Force the page-fault path for `gfn`; returns RET_PF_*. */
  fault(gfn: number, type: FaultType): number {
    this.checkGfn(gfn);
    this.begin('fault', gfn, 0, FAULT_TYPES.indexOf(type));
    const ret = kvmTdpPageFault(this.kvm, gfn, type);
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
    const n = kvmTdpMmuSplitHugePage(this.kvm, gfn, level);
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

  /** kvm_tdp_mmu_zap_sp() on the table at `level` covering `gfn`, then the caller's flush. */
  zapSp(gfn: number, level: number, strategy: ZapStrategy): boolean {
    const sp = this.findSp(gfn, level);
    this.begin('zap_sp', gfn, sp.id, level | (STRATEGIES.indexOf(strategy) << 8));
    const flush = kvmTdpMmuZapSp(this.kvm, sp, strategy);
    if (flush) this.kvm.flushTlbs();
    this.end('zap_sp', flush ? 1 : 0);
    return flush;
  }

  zapGfnRange(start: number, end: number, mode: ZapMode): boolean {
    this.checkGfn(start, 'start');
    if (!(end > start) || end > this.kvm.maxGfn) {
      throw new SimError(
        `end ${hex(end)} must be above start ${hex(start)} and at most ${hex(this.kvm.maxGfn)}`,
      );
    }
    this.begin('zap_gfn_range', start, end, ZAP_MODES.indexOf(mode));
    const flush = kvmZapGfnRange(this.kvm, start, end, mode);
    this.end('zap_gfn_range', flush ? 1 : 0);
    return flush;
  }

  invalidateRoots(): number {
    this.begin('invalidate_roots');
    const n = kvmTdpMmuInvalidateAllRoots(this.kvm);
    this.end('invalidate_roots', n);
    return n;
  }

  zapInvalidatedRoots(): number {
    this.begin('zap_invalidated_roots');
    const n = kvmTdpMmuZapInvalidatedRoots(this.kvm);
    this.end('zap_invalidated_roots', n);
    return n;
  }

  recoverNx(strategy: ZapStrategy): RecoveryResult {
    this.begin('recover_nx', 0, 0, STRATEGIES.indexOf(strategy));
    const r = kvmRecoverNxLpages(this.kvm, strategy);
    this.end('recover_nx', r.zapped | (r.iterations << 16), r.toZap);
    return r;
  }

  /** The SPTE at `level` on the path to `gfn` in the vCPU's root, for tests and the inspector. */
  spteAt(gfn: number, level: number): bigint | null {
    const root = this.kvm.vcpuRoot ?? this.kvm.roots[0];
    const sp = root ? this.kvm.tableAt(root, gfn, level) : null;
    if (!sp) return null;
    const i = sptIndex(gfn, level);
    return toBig(sp.spt[2 * i] ?? 0, sp.spt[2 * i + 1] ?? 0);
  }
}
