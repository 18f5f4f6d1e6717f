// struct tdp_iter and its walk, step by step: each loop-body visit and each step up is an event,
// and every SPTE the iterator reads is counted, so a walk can be animated and its cost measured.
// tdp_iter_next() runs as single-read steps, so a race can switch actors between any two reads.
import { EV, STEP_DOWN, STEP_RESTART, STEP_SIDE, STEP_START } from './event-log.ts';
import { pagesPerHpage, roundGfnForLevel, sptIndex, SPTE_ENT_PER_PAGE } from './geometry.ts';
import type { Kvm, Sp } from './kvm.ts';
import type { Op } from './pause.ts';
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
  /** Where tdp_iter_next() stands between two reads: 0 at its start, 1 after try_step_down()'s
   * re-read, 2 stepping side or up. */
  private phase = 0;

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
    while (!this.step());
  }

  /**
   * One read's worth of tdp_iter_next(): true when the step is complete (a new position was read,
   * or the walk ended), false when it read an SPTE and has more to do.
   */
  step(): boolean {
    if (this.phase === 0) {
      if (this.yielded) {
        this.restart();
        this.lastStep = STEP_RESTART;
        return true;
      }
      if (this.level !== this.minLevel) {
        // try_step_down() re-reads first, so a table unlinked meanwhile is never entered.
        this.readCurrent();
        this.phase = 1;
        return false;
      }
      this.phase = 2;
    }
    if (this.phase === 1) {
      if (isShadowPresent(this.oldLo) && !isLastSpte(this.oldLo, this.level)) {
        const child = this.kvm.childOf(this.oldLo, this.oldHi);
        this.level--;
        this.ptPath[this.level - 1] = child;
        this.gfn = roundGfnForLevel(this.nextLastLevelGfn, this.level);
        this.refreshSptep();
        this.phase = 0;
        this.lastStep = STEP_DOWN;
        return true;
      }
      this.phase = 2;
    }
    // try_step_side(), else try_step_up() and try the side again one level higher.
    if (this.index !== SPTE_ENT_PER_PAGE - 1) {
      this.gfn += pagesPerHpage(this.level);
      this.nextLastLevelGfn = this.gfn;
      this.index++;
      this.readCurrent();
      this.phase = 0;
      this.lastStep = STEP_SIDE;
      return true;
    }
    if (this.level === this.rootLevel) {
      this.valid = false;
      this.phase = 0;
      return true;
    }
    this.level++;
    this.gfn = roundGfnForLevel(this.gfn, this.level);
    this.refreshSptep();
    this.kvm.emit(EV.iterUp, this.sp.id, this.index | (this.level << 10), this.oldLo, this.oldHi);
    return false;
  }

  /** tdp_iter_restart() */
  private restart(): void {
    this.yielded = false;
    this.phase = 0;
    this.yieldedGfn = this.nextLastLevelGfn;
    this.level = this.rootLevel;
    this.gfn = roundGfnForLevel(this.nextLastLevelGfn, this.level);
    this.refreshSptep();
    this.valid = true;
  }

  private readCurrent(): void {
    this.oldLo = this.kvm.readSpte(this.sp, this.index);
    this.oldHi = this.kvm.readHi;
  }

  /** tdp_iter_refresh_sptep() */
  private refreshSptep(): void {
    const pt = this.ptPath[this.level - 1];
    if (!pt) throw new Error(`tdp_iter: no table at level ${this.level}`);
    this.sp = pt;
    this.index = sptIndex(this.gfn, this.level);
    this.readCurrent();
  }
}

/** tdp_iter_next() in a race: a scheduling point before each of its reads. */
export function* iterNext(it: TdpIter): Op<void> {
  do yield;
  while (!it.step());
}
