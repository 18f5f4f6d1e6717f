// Words for events: one line per operation naming the kernel function it mirrors, one per event,
// and the kernel's own tracepoint text for SPTE changes.
import { VM_FROM_TRACE } from './event-log.ts';
import type { SimEvent, SpteOrigin } from './events.ts';
import { opArgs } from './events.ts';
import { levelName } from './geometry.ts';
import { isExecutable, spteKind } from './spte.ts';
import { TRACE_EVENT_NAMES, TRACE_KINDS } from './trace/read-trace.ts';

const hex = (n: number | bigint) => '0x' + n.toString(16);

/** Writes an imported trace implies but did not print, in words. */
const ORIGIN_WORDS: Record<Exclude<SpteOrigin, 'kernel'>, string> = {
  seen: 'first seen in the trace (its old_spte)',
  split: 'not traced: a split child as make_huge_page_split_spte() computes it',
  unfreeze: 'not traced: the non-present store after a freeze',
  mismatch: "the trace's old_spte differs from what it showed before",
  gone: 'not traced: the table was freed while the trace still showed this entry',
};

/** One sentence for an operation, from its opBegin event (which names the kernel it ran under). */
export function explainOp(ev: Extract<SimEvent, { type: 'opBegin' }>): string {
  const x = opArgs(ev.op, ev.c);
  const k = ev.kernel;
  const six = k === '6.18';
  switch (ev.op) {
    case 'vm':
      if (ev.c & VM_FROM_TRACE)
        return `an imported trace: SPTEs as kernel ${k === '6.18' ? '6.10+' : 'before 6.10'} encodes them, ${ev.a}-level TDP; the VM's settings are not in the trace`;
      return `vm: kernel ${k}, ${ev.a}-level TDP, nx_huge_pages=${ev.c & 1 ? 'on' : 'off'}, recovery_ratio=${ev.b}, phys_bits=${(ev.c >>> 8) & 0xff}, vcpus=${Math.max(1, (ev.c >>> 16) & 0xff)}`;
    case 'memslot':
      return `kvm_set_memory_region(): memslot at gfn ${hex(ev.a)}, ${ev.b} pages, host backing ${levelName(ev.c)}`;
    case 'access':
      return `vCPU ${x.vcpu ?? 0}: guest ${x.type} at gfn ${hex(ev.a)}: the CPU walks the EPT from its root`;
    case 'fault':
      return `kvm_tdp_page_fault() (${k}) on vCPU ${x.vcpu ?? 0}: ${x.type} fault at gfn ${hex(ev.a)} -> kvm_mmu_hugepage_adjust() -> kvm_tdp_mmu_map(), mmu_lock held for read`;
    case 'shatter':
      return `tdp_mmu_split_huge_page(): split the ${levelName(x.level ?? 2)} leaf mapping gfn ${hex(ev.a)} into 512 children`;
    case 'zap_sp':
      return x.strategy === 'walk'
        ? `kvm_tdp_mmu_zap_sp() as in 5.16: __kvm_tdp_mmu_zap_gfn_range() over the SP's GFNs from every valid root (sp ${ev.b}, role.level ${x.level})`
        : x.strategy === 'atomic'
          ? `kvm_tdp_mmu_zap_possible_nx_huge_page() as in 6.18, mmu_lock held for read: if sp->ptep still points at sp ${ev.b} (role.level ${x.level}), cmpxchg it to non-present`
          : `kvm_tdp_mmu_zap_sp() as in 5.18: store non-present through sp->ptep of sp ${ev.b} (role.level ${x.level})`;
    case 'zap_gfn_range':
      return x.mode === 'subtrees'
        ? `kvm_zap_gfn_range() as in 5.16 (zap_gfn_range()): leaves and whole subtrees in [${hex(ev.a)}, ${hex(ev.b)}) on valid roots`
        : `kvm_zap_gfn_range() -> kvm_tdp_mmu_zap_leafs() (${k}): leaves only in [${hex(ev.a)}, ${hex(ev.b)}) on ${six ? 'valid roots' : 'every root'}`;
    case 'invalidate_roots':
      return six
        ? 'kvm_tdp_mmu_invalidate_all_roots() (6.18): mark every valid root invalid and schedule it for zapping; nothing is zapped yet'
        : k === '5.16'
          ? 'kvm_tdp_mmu_invalidate_all_roots() (5.16): take a reference on every live root and mark it invalid; nothing is zapped yet'
          : 'kvm_tdp_mmu_invalidate_all_roots() (5.18): mark every valid root invalid, take a reference and queue its zap; nothing is zapped yet';
    case 'zap_invalidated_roots':
      return k === '5.16'
        ? 'kvm_tdp_mmu_zap_invalidated_roots() (5.16): zap_gfn_range() over each invalidated root, shared, then drop its reference'
        : `kvm_tdp_mmu_zap_invalidated_roots() (${k}): zap each invalidated root (tdp_mmu_zap_root) and drop ${six ? "the TDP MMU's" : 'its'} reference`;
    case 'trace':
      return `trace line ${ev.line}: ${TRACE_EVENT_NAMES[TRACE_KINDS[ev.c] ?? 'lost']}`;
    case 'race':
      return `race: ${ev.a} actors run at once, switching at every SPTE read, cmpxchg and store; each takes mmu_lock as its kernel code does`;
    case 'recover_nx':
      if (x.checkOff) {
        return 'what-if: NX recovery as in 6.18 without the pointer check: per SP from the list head, unaccount it, then cmpxchg whatever sp->ptep holds to non-present';
      }
      if (x.readLock) {
        return "what-if: 6.18's recovery loop under the read lock with 5.18's zap: per SP from the list head, unaccount it, then a plain store of non-present through sp->ptep";
      }
      return x.strategy === 'walk'
        ? 'NX recovery as in 5.16 (kvm_recover_nx_lpages(), write lock): zap ceil(nx_lpage_splits / ratio) SPs from the NX list head by walking from every valid root'
        : x.strategy === 'atomic'
          ? 'NX recovery as in 6.18 (kvm_recover_nx_huge_pages(), read lock): per SP from the list head, unaccount it, then zap it through sp->ptep if the parent still points at it'
          : 'NX recovery as in 5.18 (kvm_recover_nx_lpages(), write lock): zap ceil(nx_lpage_splits / ratio) SPs from the NX list head through sp->ptep';
  }
}

/** What an SPTE value is, in a few words: `2M leaf`, `non-leaf`, `REMOVED_SPTE`, … */
export function spteWords(v: bigint, level: number): string {
  const lo = Number(v & 0xffffffffn) | 0;
  const hi = Number((v >> 32n) & 0xffffffffn) | 0;
  switch (spteKind(lo, hi, level)) {
    case 'none':
      return 'non-present';
    case 'removed':
      // 6.11 renamed it, and from 6.10 it carries SHADOW_NONPRESENT_VALUE (bit 63).
      return hi < 0 ? 'FROZEN_SPTE' : 'REMOVED_SPTE';
    case 'mmio':
      return 'MMIO SPTE';
    case 'table':
      return 'non-leaf';
    case 'leaf':
      return `${levelName(level)} leaf${isExecutable(lo) ? '' : ', no X'}`;
  }
}

/** An SPTE change's callout: where, what it became, and old -> new in hex. */
export function changeCallout(ev: Extract<SimEvent, { type: 'spteChanged' | 'cmpxchgFailed' }>): {
  where: string;
  change: string;
  detail: string;
} {
  if (ev.type === 'cmpxchgFailed') {
    return {
      where: `sp ${ev.sp}[${ev.index}] · L${ev.level} · cmpxchg failed`,
      change: 'value changed under us: retry',
      detail: `read ${hex(ev.expected)}, found ${hex(ev.current)}`,
    };
  }
  // A first sight in an imported trace: what was there before is not known, only what it held.
  if (ev.origin === 'seen') {
    return {
      where: `sp ${ev.sp}[${ev.index}] · L${ev.level} · first seen`,
      change: `unknown → ${spteWords(ev.new, ev.level)}`,
      detail: hex(ev.new),
    };
  }
  const implied = ev.origin === 'kernel' ? '' : ' · not traced';
  return {
    where: `sp ${ev.sp}[${ev.index}] · L${ev.level}${implied}`,
    change: `${spteWords(ev.old, ev.level)} → ${spteWords(ev.new, ev.level)}`,
    detail: `${hex(ev.old)} → ${hex(ev.new)}`,
  };
}

/** The event at the cursor in a full sentence (the "Current step" live region). */
export function stepSentence(ev: SimEvent): string {
  if (ev.type !== 'spteChanged') return explainEvent(ev);
  if (ev.origin === 'seen')
    return `${ORIGIN_WORDS.seen}: table sp ${ev.sp}, index ${ev.index}, level ${ev.level}, gfn ${hex(ev.gfn)} held ${spteWords(ev.new, ev.level)} ${hex(ev.new)}`;
  if (ev.origin !== 'kernel')
    return `${ORIGIN_WORDS[ev.origin]}: table sp ${ev.sp}, index ${ev.index}, level ${ev.level}, gfn ${hex(ev.gfn)}: ${spteWords(ev.old, ev.level)} ${hex(ev.old)} → ${spteWords(ev.new, ev.level)} ${hex(ev.new)}`;
  const who = ev.handled ? 'handle_changed_spte()' : 'an SPTE write without handle_changed_spte()';
  return `SPTE change through ${who}: table sp ${ev.sp}, index ${ev.index}, level ${ev.level}, gfn ${hex(ev.gfn)}: ${spteWords(ev.old, ev.level)} ${hex(ev.old)} → ${spteWords(ev.new, ev.level)} ${hex(ev.new)}`;
}

/** One line for any event (the event log and the "now" line under the timeline). */
export function explainEvent(ev: SimEvent): string {
  switch (ev.type) {
    case 'opBegin':
      return explainOp(ev);
    case 'opEnd':
      return ev.op === 'trace' && ev.extra > 0 ? `end of trace line ${ev.extra}` : `${ev.op} done`;
    case 'spteChanged':
      if (ev.origin !== 'kernel')
        return `${ORIGIN_WORDS[ev.origin]}: sp ${ev.sp}[${ev.index}] gfn ${hex(ev.gfn)} level ${ev.level}: ${hex(ev.new)}`;
      return `${ev.handled ? 'handle_changed_spte' : 'SPTE write'}: sp ${ev.sp}[${ev.index}] gfn ${hex(ev.gfn)} level ${ev.level}: ${hex(ev.old)} -> ${hex(ev.new)}`;
    case 'iterStep':
      return `tdp_iter ${ev.step}: sp ${ev.sp}[${ev.index}] level ${ev.level} gfn ${hex(ev.gfn)} = ${hex(ev.spte)}`;
    case 'iterUp':
      return `tdp_iter up: level ${ev.level} sp ${ev.sp}[${ev.index}]`;
    case 'spAllocated':
      if (ev.unknown)
        return `sp ${ev.sp}: a level-${ev.level} table the trace implies${ev.parent === null ? ' (a root)' : `, under sp ${ev.parent}[${ev.parentIndex}]`}; its entries are unknown until the trace shows them`;
      return ev.parent === null
        ? `new root sp ${ev.sp}, level ${ev.level}${ev.filled ? ', entries SHADOW_NONPRESENT_VALUE' : ''}`
        : `tdp_mmu_alloc_sp(): sp ${ev.sp} role.level ${ev.level} gfn ${hex(ev.gfn)}, ptep = sp ${ev.parent}[${ev.parentIndex}]${ev.filled ? ', entries SHADOW_NONPRESENT_VALUE' : ''}`;
    case 'spLinked':
      if (ev.implied) return `sp ${ev.sp} was already linked when the trace began`;
      return `tdp_mmu_link_sp(): sp ${ev.sp} added to the TDP MMU's pages`;
    case 'spUnlinked':
      return `tdp_mmu_unlink_sp(): sp ${ev.sp} taken off the TDP MMU's pages`;
    case 'spFreed':
      return `tdp_mmu_free_sp_rcu_callback(): sp ${ev.sp} freed after the RCU grace period`;
    case 'nxAccounted':
      return `account_huge_nx_page(): sp ${ev.sp} onto the NX list tail, nx_lpage_splits +1`;
    case 'nxUnaccounted':
      return `unaccount_huge_nx_page(): sp ${ev.sp} off the NX list, nx_lpage_splits -1`;
    case 'tlbFlush':
      return ev.ranged
        ? `kvm_flush_remote_tlbs_with_address(): gfn ${hex(ev.gfn)}, ${ev.pages} pages`
        : 'kvm_flush_remote_tlbs(): full flush';
    case 'warn':
      return `WARN_ON_ONCE: ${ev.message}`;
    case 'rootInvalidated':
      return `root sp ${ev.sp}: role.invalid = 1`;
    case 'rootRefcount':
      return `root sp ${ev.sp}: tdp_mmu_root_count ${ev.old} -> ${ev.new}`;
    case 'vcpuRoot':
      return `vCPU ${ev.vcpu} loads root sp ${ev.new}${ev.old === null ? '' : ` (drops obsolete root sp ${ev.old})`}`;
    case 'fault':
      return `page fault: ${ev.access} at gfn ${hex(ev.gfn)}; read_lock(&kvm->mmu_lock)`;
    case 'faultDone':
      // Spurious: the walk reached the goal level and installed nothing there.
      return ev.ret === 'RET_PF_SPURIOUS'
        ? `${ev.ret}: gfn ${hex(ev.gfn)} at ${levelName(ev.goalLevel)}: nothing installed (req_level ${levelName(ev.reqLevel)})`
        : `${ev.ret}: gfn ${hex(ev.gfn)} mapped at ${levelName(ev.goalLevel)} (req_level ${levelName(ev.reqLevel)})`;
    case 'splitStats':
      return `kvm_update_page_stats(): +512 at level ${ev.level}`;
    case 'nxRecoverPick':
      return `recovery loop: sp ${ev.sp} from the NX list head; the zap returned ${ev.returned}; ${ev.stillListed ? `sp ${ev.sp} is still on the NX list${ev.rootInvalid ? ' (its root is invalid)' : ''}` : `sp ${ev.sp} is off the NX list`}`;
    case 'mmuLock':
      return ev.mode === 'none'
        ? `${ev.was}_unlock(&kvm->mmu_lock)`
        : `${ev.mode}_lock(&kvm->mmu_lock)${ev.mode === 'read' ? ': shared with vCPU faults' : ': exclusive'}`;
    case 'memslotAdded':
      return `memslot ${ev.slot}: gfn ${hex(ev.baseGfn)}, ${ev.npages} pages, ${levelName(ev.backingLevel)} backing`;
    case 'cmpxchgFailed':
      return `cmpxchg failed: sp ${ev.sp}[${ev.index}] gfn ${hex(ev.gfn)} level ${ev.level} held ${hex(ev.current)}, not the ${hex(ev.expected)} read before: the value changed under us`;
    case 'actor':
      return `actor ${ev.actor} runs`;
    case 'traceLost':
      return `CPU ${ev.cpu} lost ${ev.count} events (trace line ${ev.line}): what follows is uncertain`;
    case 'actorOp':
      return ev.end
        ? `actor ${ev.actor} finished line ${ev.line}`
        : `actor ${ev.actor} starts line ${ev.line}`;
  }
}

/** TP_printk of the kvm_tdp_mmu_spte_changed tracepoint; null for writes that bypass it. */
export function tracepointLine(ev: SimEvent): string | null {
  if (ev.type !== 'spteChanged' || !ev.handled || ev.old === ev.new) return null;
  return `kvm_tdp_mmu_spte_changed: as id 0 gfn ${ev.gfn.toString(16)} level ${ev.level} old_spte ${ev.old.toString(16)} new_spte ${ev.new.toString(16)}`;
}
