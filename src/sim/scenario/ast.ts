// The scenario language's statements, as the parser produces them and the runner consumes them.
import type { FaultType, ZapMode, ZapStrategy } from '../names.ts';
import type { KernelId } from '../profile.ts';
import type { ScheduleSpec } from '../race/schedule.ts';

/** Where a statement (or one of its key=value pairs) starts: 1-based line and column. */
export interface Pos {
  line: number;
  col: number;
}

export interface VmStatement extends Pos {
  kind: 'vm';
  kernel?: KernelId;
  levels?: 4 | 5;
  nxHugePages?: boolean;
  recoveryRatio?: number;
  physBits?: number;
  vcpus?: number;
}
export interface MemslotStatement extends Pos {
  kind: 'memslot';
  gfn: number;
  npages: number;
  /** 1 = 4K, 2 = 2M, 3 = 1G */
  backingLevel: number;
}
export interface AccessStatement extends Pos {
  kind: 'access' | 'fault';
  gfn: number;
  type: FaultType;
  /** Absent: vCPU 0. */
  vcpu?: number;
}
/** The guest touches every 4 KiB page of [gfn, gfn + npages), in order. */
export interface AccessRangeStatement extends Pos {
  kind: 'access_range';
  gfn: number;
  npages: number;
  type: FaultType;
  vcpu?: number;
}
export interface ShatterStatement extends Pos {
  kind: 'shatter';
  gfn: number;
  level: number;
}
export interface ZapSpStatement extends Pos {
  kind: 'zap_sp';
  gfn: number;
  level: number;
  /** Absent: the VM's kernel profile decides (5.16 walk, 5.18 direct, 6.18 atomic). */
  strategy?: ZapStrategy;
}
export interface ZapGfnRangeStatement extends Pos {
  kind: 'zap_gfn_range';
  start: number;
  end: number;
  /** Absent: the profile decides (5.16 subtrees, later kernels leafs). */
  mode?: ZapMode;
}
export interface BareStatement extends Pos {
  kind: 'invalidate_roots' | 'zap_invalidated_roots';
}
export interface RecoverNxStatement extends Pos {
  kind: 'recover_nx';
  strategy?: ZapStrategy;
  /** What-if: false drops 6.18's pointer-identity check (strategy=atomic only). */
  check?: boolean;
  /** What-if: the mmu_lock mode, when not the strategy's own (direct under the read lock). */
  lock?: 'read' | 'write';
}

/** One line of a race block: who runs it (a vCPU or the NX recovery worker) and what. */
export interface RaceLine extends Pos {
  actor: string;
  statement: AccessStatement | RecoverNxStatement | BareStatement;
}

/** `race … end`: the lines run concurrently, one actor each, interleaved by the schedule. */
export interface RaceStatement extends Pos {
  kind: 'race';
  schedule: ScheduleSpec;
  actors: RaceLine[];
  /** The line of `end`. */
  endLine: number;
}
export interface ExpectCheck extends Pos {
  name: string;
  value: number;
}
export interface ExpectStatement extends Pos {
  kind: 'expect';
  checks: ExpectCheck[];
}

export type Statement =
  | VmStatement
  | MemslotStatement
  | AccessStatement
  | AccessRangeStatement
  | ShatterStatement
  | ZapSpStatement
  | ZapGfnRangeStatement
  | BareStatement
  | RecoverNxStatement
  | RaceStatement
  | ExpectStatement;

export interface ParseError extends Pos {
  message: string;
}

export interface ParseResult {
  statements: Statement[];
  errors: ParseError[];
}

/** An `expect` that did not hold when the script ran. */
export interface ExpectFailure extends Pos {
  name: string;
  expected: number;
  actual: number;
}
