// struct tdp_iter and its walk, step by step: each loop-body visit and each step up is an event,
// and every SPTE the iterator reads is counted, so a walk can be animated and its cost measured.
import { EV, STEP_DOWN, STEP_RESTART, STEP_SIDE, STEP_START } from './event-log.ts';
import { pagesPerHpage, roundGfnForLevel, sptIndex, SPTE_ENT_PER_PAGE } from './geometry.ts';
import type { Kvm, Sp } from './kvm.ts';
import { isLastSpte, isShadowPresent } from './spte.ts';

export class TdpIter {
  nextLastLevelGfn = 0;
  yieldedGfn = 0;
  /** pt_path[level - 1]: the table walked through at each level. */
  readonly ptPath: (Sp | null)[] = [null, null, null, null, null];
  /** The table holding the current SPTE and its index there: together, iter->sptep. */
  sp!: Sp;
  index = 0;
  gfn = 0;
  rootLevel = 0;
  minLevel = 0;
  level = 0;
  /** iter->old_spte, the snapshot read at this position. */
  oldLo = 0;
  oldHi = 0;
  valid = false;
  yielded = false;
  private lastStep = STEP_START;

  constructor(private readonly kvm: Kvm) {}

  /** tdp_iter_start() */
  start(root: Sp, minLevel: number, gfn: number): this {
    this.nextLastLevelGfn = gfn;
    this.rootLevel = root.level;
    this.minLevel = minLevel;
    this.ptPath[root.level - 1] = root;
    this.restart();
    this.lastStep = STEP_START;
    return this;
  }

  /** The loop body is about to run here: one visit. */
  visit(): void {
    this.kvm.counters.iter_steps++;
    this.kvm.log.push(
      EV.iterStep,
      this.sp.id,
      this.index | (this.level << 10) | (this.lastStep << 16),
      this.oldLo,
      this.oldHi,
      0,
      0,
      0,
    );
  }

  /** Re-read the current SPTE (callers do this after a failed cmpxchg or their own write). */
  reread(): void {
    this.readCurrent();
  }

  /** tdp_iter_next() */
  next(): void {
    if (this.yielded) {
      this.restart();
      this.lastStep = STEP_RESTART;
      return;
    }
    if (this.tryStepDown()) {
      this.lastStep = STEP_DOWN;
      return;
    }
    do {
      if (this.tryStepSide()) {
        this.lastStep = STEP_SIDE;
        return;
      }
    } while (this.tryStepUp());
    this.valid = false;
  }

  /** tdp_iter_restart() */
  private restart(): void {
    this.yielded = false;
    this.yieldedGfn = this.nextLastLevelGfn;
    this.level = this.rootLevel;
    this.gfn = roundGfnForLevel(this.nextLastLevelGfn, this.level);
    this.refreshSptep();
    this.valid = true;
  }

  private readCurrent(): void {
    this.kvm.countRead();
    const o = this.index * 2;
    this.oldLo = this.sp.spt[o] ?? 0;
    this.oldHi = this.sp.spt[o + 1] ?? 0;
  }

  /** tdp_iter_refresh_sptep() */
  private refreshSptep(): void {
    const pt = this.ptPath[this.level - 1];
    if (!pt) throw new Error(`tdp_iter: no table at level ${this.level}`);
    this.sp = pt;
    this.index = sptIndex(this.gfn, this.level);
    this.readCurrent();
  }

  /** try_step_down(): re-read first, so a table unlinked meanwhile is never entered. */
  private tryStepDown(): boolean {
    if (this.level === this.minLevel) return false;
    this.readCurrent();
    if (!isShadowPresent(this.oldLo) || isLastSpte(this.oldLo, this.level)) return false;
    const child = this.kvm.childOf(this.oldLo, this.oldHi);
    this.level--;
    this.ptPath[this.level - 1] = child;
    this.gfn = roundGfnForLevel(this.nextLastLevelGfn, this.level);
    this.refreshSptep();
    return true;
  }

  /** try_step_side() */
  private tryStepSide(): boolean {
    if (this.index === SPTE_ENT_PER_PAGE - 1) return false;
    this.gfn += pagesPerHpage(this.level);
    this.nextLastLevelGfn = this.gfn;
    this.index++;
    this.readCurrent();
    return true;
  }

  /** try_step_up() */
  private tryStepUp(): boolean {
    if (this.level === this.rootLevel) return false;
    this.level++;
    this.gfn = roundGfnForLevel(this.gfn, this.level);
    this.refreshSptep();
    this.kvm.emit(EV.iterUp, this.sp.id, this.index | (this.level << 10), this.oldLo, this.oldHi);
    return true;
  }
}
