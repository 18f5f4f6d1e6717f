// Guided tours: a scenario script and the steps that walk through it, with our own pseudo-code.

export interface TourStep {
  title: string;
  /** 2-5 plain sentences. */
  text: string;
  /** Kernel functions involved, e.g. 'kvm_tdp_mmu_map()'. */
  kernel: readonly string[];
  /** Our own illustrative pseudo-code for this step (never kernel source). */
  pseudo: readonly string[];
  /** Index in `pseudo` of the line this step is at. */
  line: number;
  /**
   * Where the timeline cursor goes: before the first or after the last event of a script line, or
   * in a race at that line, at the end of its `stretch`-th run of one actor's events (0-based).
   */
  at: { line: number; edge: 'before' | 'after'; stretch?: number };
}

export interface Tour {
  id: string;
  title: string;
  summary: string;
  script: string;
  steps: readonly TourStep[];
}

const NX_SCRIPT = [
  '# NX huge pages (the iTLB multihit workaround) and their recovery, on one 2M frame.',
  'vm kernel=5.18 levels=4 nx_huge_pages=on recovery_ratio=60',
  'memslot gpa=0x100000000 size=2M backing=2M      # one 2M host huge page',
  'access gpa=0x100000000 type=read                # a 2M leaf, X withheld',
  'expect pages_2m=1 pages_4k=0 nx_lpage_splits=0 tables=2',
  'access gpa=0x100000000 type=exec                # 2M leaf zapped; accounted L1 table, 4K leaf',
  'expect pages_2m=0 pages_4k=1 nx_lpage_splits=1 tables=3 tlb_flushes_ranged=1',
  'access gpa=0x100001000 type=exec                # same frame: one more 4K leaf, no new account',
  'expect pages_4k=2 nx_lpage_splits=1',
  'access gpa=0x100002000 type=read                # a read maps 4K too: the table is in the way',
  'expect pages_2m=0 pages_4k=3',
  'recover_nx                                      # ceil(1 / 60) = 1 table, through sp->ptep',
  'expect nx_lpage_splits=0 pages_4k=0 tables=2 tlb_flushes_full=1',
  'access gpa=0x100000000 type=read                # huge again',
  'expect pages_2m=1 pages_4k=0 nx_lpage_splits=0',
].join('\n');

const ZAP_SP_SCRIPT = [
  '# Two ways to zap one shadow page, on the same state: two NX-split 2M frames, each an accounted',
  '# L1 table holding one 4K leaf. Frame 1 goes the 5.16 way (a walk from the root), frame 2 the',
  '# 5.18 way (one write through sp->ptep).',
  'vm kernel=5.18 levels=4 nx_huge_pages=on recovery_ratio=60',
  'memslot gpa=0x100000000 size=4M backing=2M',
  'access gpa=0x100000000 type=exec                # frame 1: an accounted L1 table, one 4K leaf',
  'access gpa=0x100200000 type=exec                # frame 2: the same',
  'expect nx_lpage_splits=2 pages_4k=2 tables=4 spte_reads=14 spte_writes=6 iter_steps=8',
  '',
  'zap_sp gpa=0x100000000 level=1 strategy=walk    # 3 visits, 7 + 512 reads, ranged + full flush',
  'expect nx_lpage_splits=1 pages_4k=1 tables=3 spte_reads=533 spte_writes=8 iter_steps=11',
  'expect tlb_flushes_ranged=1 tlb_flushes_full=1',
  '',
  'zap_sp gpa=0x100200000 level=1 strategy=direct  # no walk: 1 + 512 reads, one full flush',
  'expect nx_lpage_splits=0 pages_4k=0 tables=2 spte_reads=1046 spte_writes=10 iter_steps=11',
  'expect tlb_flushes_ranged=1 tlb_flushes_full=2',
  '',
  'access gpa=0x100000000 type=read                # either way, the frame can be 2M again',
  'expect pages_2m=1 pages_4k=0',
].join('\n');

const INVALID_ROOT_SCRIPT = [
  '# Zapping under an invalidated root: the window between kvm_tdp_mmu_invalidate_all_roots()',
  '# and the zap of the invalidated roots, where the reviewer worried about zap_sp.',
  'vm kernel=5.18 levels=4 nx_huge_pages=on recovery_ratio=1',
  'memslot gpa=0x100000000 size=4M backing=2M',
  'access gpa=0x100000000 type=exec                # root sp 0: an accounted L1 table, one 4K leaf',
  'expect nx_lpage_splits=1 roots=1 pages_4k=1',
  '',
  'invalidate_roots                                # root sp 0: role.invalid = 1, nothing zapped',
  'expect roots=1 invalid_roots=1 nx_lpage_splits=1 pages_4k=1 spte_writes=4',
  'access gpa=0x100000000 type=read                # the vCPU reloads: new root, a 2M leaf there',
  'expect roots=2 invalid_roots=1 pages_2m=1 pages_4k=1 nx_lpage_splits=1',
  '',
  'recover_nx strategy=walk                        # 5.16: valid roots only, hits the 2M leaf',
  'expect nx_lpage_splits=1 pages_2m=0 pages_4k=1',
  'recover_nx strategy=direct                      # 5.18: via sp->ptep, under the invalid root',
  'expect nx_lpage_splits=0 pages_4k=0 invalid_roots=1',
  '',
  'zap_invalidated_roots                           # the old root goes at last',
  'expect roots=1 invalid_roots=0 tables=2',
].join('\n');

const NX_TOUR: Tour = {
  id: 'nx',
  title: 'NX huge pages and the iTLB multihit workaround',
  summary: 'A 2M leaf without X, split to 4K when the guest executes from it, and recovered to 2M.',
  script: NX_SCRIPT,
  steps: [
    {
      title: 'A VM with the mitigation on',
      text:
        'On CPUs with the iTLB multihit erratum, a guest executing from a page whose size ' +
        'changes under it can trigger a machine check on the host. With nx_huge_pages=on, KVM ' +
        'never lets the guest execute from a huge page: huge leaves are built without X, and an ' +
        'exec fault maps 4K. The memslot is backed by one 2M host page, so it may be mapped ' +
        'huge; nothing is mapped until the guest touches it.',
      kernel: ['kvm_set_memory_region()', 'kvm_mmu_max_mapping_level()'],
      pseudo: [
        'memslot: GFNs [0x100000, 0x100200), host page 2M',
        'max_level(gfn) = min(host page size, what the slot fully covers)',
        'nx_huge_pages = on:',
        '  huge leaves are built without X',
        '  an exec fault never maps above 4K',
      ],
      line: 2,
      at: { line: 3, edge: 'after' },
    },
    {
      title: 'Read: one 2M leaf, without X',
      text:
        'The guest reads the first page. The EPT is empty, so the CPU exits with an EPT ' +
        'violation and KVM handles a page fault. A read of a 2M-backed page may be mapped at ' +
        'level 2: on the way down KVM links a new L3 and L2 table, then installs one 2M leaf ' +
        '(pages_2m = 1). make_spte() leaves X out because NX huge pages are on.',
      kernel: [
        'kvm_tdp_page_fault()',
        'kvm_mmu_hugepage_adjust()',
        'kvm_tdp_mmu_map()',
        'make_spte()',
      ],
      pseudo: [
        'fault(gfn, read):',
        '  goal = max_level(gfn)  # 2',
        '  huge_page_disallowed = exec && nx_huge_pages  # false',
        '  walk from the root towards goal:',
        '    empty entry above goal: link a new table',
        '  at goal: leaf = make_spte(pfn, level 2)',
        '    no X bit: level > 1 and nx_huge_pages',
      ],
      line: 5,
      at: { line: 4, edge: 'after' },
    },
    {
      title: 'Exec: the CPU refuses the 2M leaf',
      text:
        'Now the guest executes from the same page. The 2M leaf is present but has no X bit, so ' +
        'the instruction fetch ends in an EPT violation. kvm_mmu_hugepage_adjust() finds that ' +
        'the frame could be mapped 2M (req_level 2), but an exec fault with the workaround on ' +
        'marks the huge page disallowed, so the goal stays at 4K. Nothing has changed yet: this ' +
        'step only looks ahead.',
      kernel: ['kvm_tdp_page_fault()', 'kvm_mmu_hugepage_adjust()'],
      pseudo: [
        'fault(gfn, exec):',
        '  req_level = max_level(gfn)  # 2',
        '  huge_page_disallowed = exec && nx_huge_pages  # true',
        '  goal = huge_page_disallowed ? 1 : req_level  # 1: 4K only',
      ],
      line: 3,
      at: { line: 6, edge: 'before' },
    },
    {
      title: 'Exec: zap the 2M leaf, link an accounted L1 table',
      text:
        'kvm_tdp_mmu_map() walks down and meets the huge leaf at level 2, above the goal. It ' +
        'zaps it atomically (pages_2m 1 → 0, a TLB flush of its 2M range), links a new L1 table ' +
        'in its place and, since a huge page was possible but refused for NX, accounts the ' +
        'table: it goes to the tail of the NX list and nx_lpage_splits becomes 1. Then it ' +
        'installs one executable 4K leaf; the other 511 pages of the frame stay unmapped until ' +
        'touched.',
      kernel: [
        'kvm_tdp_mmu_map()',
        'tdp_mmu_zap_spte_atomic()',
        'tdp_mmu_link_sp()',
        'account_huge_nx_page()',
      ],
      pseudo: [
        'at level 2: a huge leaf above goal',
        '  freeze it to REMOVED, flush its 2M, write 0  # pages_2m -1',
        '  t = new table (role.level 1); link t here',
        '  if huge_page_disallowed and req_level >= 2:',
        '    account t: NX list tail, nx_lpage_splits += 1',
        'at level 1: leaf = make_spte(pfn, 4K)  # X allowed at 4K',
      ],
      line: 4,
      at: { line: 6, edge: 'after' },
    },
    {
      title: 'Exec again in the same frame',
      text:
        'Executing from the next 4K page faults too, since nothing maps it yet. This time the ' +
        'walk finds the L1 table already linked and only installs a second 4K leaf. A table is ' +
        'accounted once, when it is linked, so nx_lpage_splits stays 1: it counts split frames, ' +
        'not 4K pages.',
      kernel: ['kvm_tdp_mmu_map()', 'tdp_mmu_map_handle_target_level()'],
      pseudo: [
        'fault(gfn + 1, exec): goal = 1',
        'walk: the L2 entry points to table t',
        '  present table: step down, nothing to link',
        'at level 1: install a 4K leaf with X  # pages_4k +1',
        't was accounted when linked: no change',
      ],
      line: 2,
      at: { line: 8, edge: 'after' },
    },
    {
      title: 'A read maps 4K too',
      text:
        'A read of a third page would normally get a 2M mapping. But with the workaround on, ' +
        'disallowed_hugepage_adjust() sees a table, not a leaf, at the goal level and lowers the ' +
        'goal to 4K, so the existing table is kept. The frame stays split, mapped 4K by 4K, ' +
        'until something removes the table.',
      kernel: ['kvm_tdp_mmu_map()', 'disallowed_hugepage_adjust()'],
      pseudo: [
        'fault(gfn + 2, read): goal = 2',
        'walk: at level 2 the entry is a table',
        '  workaround on and level == goal:',
        '    goal = 1  # keep the table',
        'at level 1: install a 4K leaf  # pages_4k +1',
      ],
      line: 3,
      at: { line: 10, edge: 'after' },
    },
    {
      title: 'Recovery zaps the table',
      text:
        'The recovery thread wakes about once a minute and zaps ceil(nx_lpage_splits / ratio) = ' +
        'ceil(1 / 60) = 1 table from the head of the NX list, the oldest split. Since 5.18, ' +
        'kvm_tdp_mmu_zap_sp() writes 0 straight into sp->ptep, the L2 entry that points at the ' +
        'table. handle_removed_pt() unaccounts it (nx_lpage_splits 1 → 0), marks its 3 leaves ' +
        'REMOVED (pages_4k 3 → 0) and frees it after an RCU grace period; one full TLB flush ' +
        'ends the run.',
      kernel: [
        'kvm_recover_nx_lpages()',
        'kvm_tdp_mmu_zap_sp()',
        'handle_removed_pt()',
        'kvm_flush_remote_tlbs()',
      ],
      pseudo: [
        'to_zap = ceil(nx_lpage_splits / ratio)  # 1',
        'while to_zap-- and the NX list is not empty:',
        '  sp = head of the NX list  # the oldest split',
        '  old = read(*sp->ptep)',
        '  write 0 to *sp->ptep  # detaches sp',
        '  handle_removed_pt(sp): unaccount, REMOVED each leaf, RCU free',
        'flush all TLBs once',
      ],
      line: 4,
      at: { line: 12, edge: 'after' },
    },
    {
      title: 'Huge again',
      text:
        'With the table gone, the next read finds an empty L2 entry and gets a 2M leaf again ' +
        '(pages_2m 0 → 1). That is what recovery is for: a burst of execution does not keep the ' +
        'frame on 4K pages forever. If the guest executes here again, the frame is split again, ' +
        'and the ratio decides what share of the splits each run undoes.',
      kernel: ['kvm_tdp_mmu_map()', 'make_spte()'],
      pseudo: [
        'fault(gfn, read): goal = 2',
        'walk: the L2 entry is empty (its table was zapped)',
        'at level 2: install a 2M leaf without X  # pages_2m +1',
        'a later exec here: split again (step 4)',
      ],
      line: 2,
      at: { line: 14, edge: 'after' },
    },
  ],
};

const ZAP_SP_TOUR: Tour = {
  id: 'zap-sp',
  title: 'Two ways to zap a shadow page',
  summary:
    'The 5.16 walk from the root against the 5.18 write through sp->ptep, with what each costs.',
  script: ZAP_SP_SCRIPT,
  steps: [
    {
      title: 'One split frame',
      text:
        'Executing from a 2M frame that was never mapped builds an NX-accounted L1 table with ' +
        'one executable 4K leaf. When KVM creates the table it records sp->ptep, the address of ' +
        'the L2 entry that points at it; this field is what the 5.18 zap relies on.',
      kernel: ['kvm_tdp_mmu_map()', 'tdp_mmu_init_sp()', 'tdp_mmu_link_sp()'],
      pseudo: [
        'fault(gfn, exec): goal = 1, huge page disallowed',
        'at level 2, empty entry e:',
        '  sp = new table; sp.gfn = gfn rounded down to 2M',
        '  sp.ptep = &e  # remember the parent entry',
        '  e = link(sp); account sp  # NX list: [frame 1]',
        'at level 1: install a 4K leaf',
      ],
      line: 3,
      at: { line: 6, edge: 'after' },
    },
    {
      title: 'A second split frame',
      text:
        'The next 2M frame gets the same: its own accounted L1 table, hanging from the next ' +
        'entry of the same L2 table. nx_lpage_splits is 2 and the NX list holds frame 1 then ' +
        'frame 2. So far the counters show 14 SPTE reads and 8 iterator steps, all from the two ' +
        'faults.',
      kernel: ['kvm_tdp_mmu_map()', 'account_huge_nx_page()'],
      pseudo: [
        'fault(gfn + 512, exec): goal = 1',
        'walk: L4 and L3 entries present, step down',
        'at level 2, entry e + 1 is empty:',
        '  sp2 = new table; sp2.ptep = &(e + 1)',
        '  link and account sp2  # NX list: [frame 1, frame 2]',
      ],
      line: 4,
      at: { line: 7, edge: 'after' },
    },
    {
      title: '5.16: zap a table by its GFN range',
      text:
        'Before 5.18, kvm_tdp_mmu_zap_sp() did not know where a table hangs. It turned the table ' +
        'into the GFN range its parent entry maps, [sp->gfn, sp->gfn + 512) for an L1 table, and ' +
        'zapped that range on every valid root, with yielding disabled. So the walk has to find ' +
        'the table again, starting from the top.',
      kernel: ['kvm_tdp_mmu_zap_sp()', '__kvm_tdp_mmu_zap_gfn_range()'],
      pseudo: [
        'zap_sp_by_walk(sp):',
        '  start = sp.gfn',
        '  end = start + pages_per_hpage(sp.level + 1)  # 512 for L1',
        '  flush = false',
        '  for each valid root r:',
        '    flush |= zap_range(r, start, end, can_yield = false)',
        '  return flush',
      ],
      line: 4,
      at: { line: 10, edge: 'before' },
    },
    {
      title: '5.16: the walk and what it costs',
      text:
        'tdp_iter starts at the root: the L4 and L3 entries map far more than the range, so it ' +
        'steps down; the L2 entry lies wholly inside, so it is written 0, which detaches the ' +
        'table. The iterator then steps sideways out of the range and stops: 3 visits, 7 reads. ' +
        'Removing the table reads its 512 entries, writes REMOVED into the one present leaf and, ' +
        'in 5.16, flushes the table range at once; the caller adds a full flush (519 reads, 2 ' +
        'writes, 2 flushes).',
      kernel: [
        'zap_gfn_range()',
        'tdp_iter_next()',
        'handle_removed_tdp_mmu_page()',
        'kvm_flush_remote_tlbs_with_address()',
      ],
      pseudo: [
        'for each entry e the iterator visits in [start, end):',
        '  if e is not present: continue',
        '  if e is a table reaching outside the range: continue  # step down',
        '  write 0 to e  # here: the L2 entry',
        '  remove its table: read 512 entries, REMOVED the present ones',
        '  5.16: flush the table range right here',
        'caller: flush all TLBs',
      ],
      line: 3,
      at: { line: 10, edge: 'after' },
    },
    {
      title: '5.18: start from the table itself',
      text:
        'Since 5.18 a table knows its parent entry, sp->ptep. kvm_tdp_mmu_zap_sp() reads that ' +
        'one SPTE, warns and gives up if it is not present, and otherwise writes 0 there with ' +
        'the full bookkeeping. No root is looked up, no iterator runs, and the TLB flush is left ' +
        'to the caller, who batches it.',
      kernel: ['kvm_tdp_mmu_zap_sp()', '__tdp_mmu_set_spte()'],
      pseudo: [
        'zap_sp_direct(sp):',
        '  if sp is a root: warn, return false',
        '  old = read(*sp->ptep)',
        '  if old is not present: warn, return false',
        '  write 0 to *sp->ptep, handle the change  # removes sp',
        '  return true  # the caller flushes',
      ],
      line: 4,
      at: { line: 14, edge: 'before' },
    },
    {
      title: '5.18: one read, one write, one flush',
      text:
        'Writing 0 detaches the table exactly as the walk did. handle_removed_pt() unaccounts it ' +
        '(nx_lpage_splits 1 → 0), reads its 512 entries, marks the one present leaf REMOVED ' +
        '(pages_4k 1 → 0) and queues the table for freeing after an RCU grace period. It no ' +
        "longer flushes: the caller's single full flush covers it (513 reads, 2 writes, 0 " +
        'iterator steps, 1 flush).',
      kernel: ['handle_removed_pt()', 'unaccount_huge_nx_page()', 'kvm_flush_remote_tlbs()'],
      pseudo: [
        'handle_removed_pt(sp):',
        '  unaccount sp: off the NX list, nx_lpage_splits -= 1',
        '  for each of the 512 entries: read; if present, write REMOVED',
        '  free sp after an RCU grace period',
        '  (no flush here since 5.18)',
        'caller: flush all TLBs once',
      ],
      line: 2,
      at: { line: 14, edge: 'after' },
    },
    {
      title: 'The cost, side by side',
      text:
        'Per table, the walk spends 3 iterator visits and 7 reads finding the entry, plus a ' +
        'ranged flush; the direct zap spends 1 read. Both read all 512 entries of the table, so ' +
        'the saving is small, and each extra valid root costs the walk another descent. Speed ' +
        'was not the motive: the series wanted zap_gfn_range() to zap leaves only, and recovery ' +
        'to zap exactly the table it picked. What the walk can and cannot reach is the next ' +
        'tour.',
      kernel: ['kvm_tdp_mmu_zap_sp()', 'handle_removed_pt()'],
      pseudo: [
        'walk:   3 visits, 7 + 512 reads, 2 writes, flushes: 1 ranged + 1 full',
        'direct: 0 visits, 1 + 512 reads, 2 writes, flushes: 1 full',
        'walk, each more valid root: up to 3 visits and 7 reads',
        'both: the 512 reads of the removed table dominate',
      ],
      line: 1,
      at: { line: 18, edge: 'before' },
    },
    {
      title: 'The same end state',
      text:
        'Both frames are now unmapped and off the NX list, whichever way their table went. A ' +
        'read of frame 1 finds an empty L2 entry and installs a 2M leaf without X, as in the NX ' +
        'tour. The guest cannot tell the two strategies apart; they differ in cost and in which ' +
        'roots they reach.',
      kernel: ['kvm_tdp_mmu_map()'],
      pseudo: [
        'fault(gfn, read): goal = 2',
        'walk: the L2 entry is empty (its table was zapped)',
        'at level 2: install a 2M leaf without X  # pages_2m +1',
      ],
      line: 2,
      at: { line: 18, edge: 'after' },
    },
  ],
};

const INVALID_ROOT_TOUR: Tour = {
  id: 'invalid-root',
  title: 'Zapping under an invalidated root',
  summary:
    'Under an invalidated root the walk never reaches the accounted table; sp->ptep does. Safe?',
  script: INVALID_ROOT_SCRIPT,
  steps: [
    {
      title: 'An accounted table under root sp 0',
      text:
        'As in the NX tour, executing from a 2M frame leaves an NX-accounted L1 table with one ' +
        "4K leaf, here under the vCPU's only root, root sp 0. The table is the head of the NX list, " +
        "and its sp->ptep points at its parent entry in root sp 0's L2 table.",
      kernel: ['kvm_tdp_mmu_map()', 'account_huge_nx_page()'],
      pseudo: [
        "roots: [root sp 0 (valid, the vCPU's)]",
        'root sp 0 -> L3 table -> L2 table, entry e -> table t (L1)',
        't.ptep = &e',
        'NX list: [t]  # nx_lpage_splits = 1',
      ],
      line: 3,
      at: { line: 5, edge: 'after' },
    },
    {
      title: 'Invalidate every root: nothing is zapped',
      text:
        'A fast zap of the whole VM (deleting a memslot, or toggling nx_huge_pages) calls ' +
        'kvm_tdp_mmu_invalidate_all_roots(): each valid root gets an extra reference and ' +
        'role.invalid = 1, and is queued to be zapped later. No SPTE changes, so the stats stay ' +
        'and the accounted table is still on the NX list. Every vCPU is asked to reload, which ' +
        'only promises it drops the root before it enters the guest again.',
      kernel: ['kvm_mmu_zap_all_fast()', 'kvm_tdp_mmu_invalidate_all_roots()'],
      pseudo: [
        'invalidate_all_roots():',
        '  for each valid root r:',
        '    take a reference on r  # keeps r allocated',
        '    r.role.invalid = true',
        '    queue r to be zapped later',
        '  ask every vCPU to reload its MMU',
        '  # no SPTE is written',
      ],
      line: 3,
      at: { line: 8, edge: 'after' },
    },
    {
      title: 'The vCPU moves to a new root',
      text:
        'Before entering the guest the vCPU lets go of the invalid root and loads a valid one; ' +
        'there is none, so a new root sp 4 is allocated. The read faults there and, as root sp 4 has ' +
        'no table under this frame, gets a 2M leaf. The stats add up both roots: pages_2m 1 from ' +
        'root sp 4, and pages_4k 1 and nx_lpage_splits 1 still from root sp 0, which no vCPU uses now.',
      kernel: ['kvm_mmu_load()', 'kvm_tdp_mmu_get_vcpu_root_hpa()', 'kvm_tdp_mmu_map()'],
      pseudo: [
        'before entering the guest:',
        '  if vcpu.root is invalid:',
        "    drop the vCPU's reference to it",
        '    vcpu.root = a valid root, else a new one  # root sp 4',
        'fault(gfn, read) in root sp 4:',
        '  no table under this frame here: a 2M leaf',
      ],
      line: 3,
      at: { line: 10, edge: 'after' },
    },
    {
      title: '5.16 recovery: walk the valid roots',
      text:
        'The recovery thread runs with ratio 1, so to_zap = 1, and the head of the NX list is ' +
        'the table under root sp 0. The 5.16 kvm_tdp_mmu_zap_sp() turns it into the GFN range of ' +
        'its frame and walks that range on every valid root. Root sp 0 is invalid, so the root ' +
        'iterator skips it: the only walk is in root sp 4.',
      kernel: ['kvm_recover_nx_lpages()', 'kvm_tdp_mmu_zap_sp()', '__kvm_tdp_mmu_zap_gfn_range()'],
      pseudo: [
        'sp = head of the NX list  # the table under root sp 0',
        "start, end = sp's 2M frame",
        'for each root r:',
        '  if r is invalid: skip  # root sp 0',
        '  zap [start, end) in r  # root sp 4 only',
      ],
      line: 3,
      at: { line: 13, edge: 'before' },
    },
    {
      title: 'The walk misses its target',
      text:
        'In root sp 4 the range is mapped by the 2M leaf of the last read, so the walk zaps that ' +
        'leaf (pages_2m 1 → 0): a mapping unrelated to the split, which the guest will fault ' +
        'back in. The accounted table under root sp 0 is never reached, so nx_lpage_splits stays 1 ' +
        'and the table stays at the head of the NX list. Every later run picks it again and ' +
        'spends its budget there, until the invalid root is finally zapped.',
      kernel: ['zap_gfn_range()', 'kvm_flush_remote_tlbs()'],
      pseudo: [
        'walk root sp 4 over [start, end):',
        '  L4, L3 entries: tables wider than the range, step down',
        '  L2 entry: a 2M leaf in the range: write 0',
        'sp, under root sp 0, untouched:',
        '  still accounted, still the NX list head',
        'flush all TLBs',
      ],
      line: 4,
      at: { line: 13, edge: 'after' },
    },
    {
      title: '5.18 recovery: straight through sp->ptep',
      text:
        'The 5.18 kvm_tdp_mmu_zap_sp() does not look at roots at all: it reads *sp->ptep, an ' +
        "entry of root sp 0's L2 table, and writes 0 there. handle_removed_pt() unaccounts the " +
        'table (nx_lpage_splits 1 → 0), marks its leaf REMOVED (pages_4k 1 → 0) and frees it ' +
        'after an RCU grace period. This is what Ben Gardon flagged in review: an SPTE changed ' +
        'under an invalidated root, without walking down to it.',
      kernel: ['kvm_recover_nx_lpages()', 'kvm_tdp_mmu_zap_sp()', 'handle_removed_pt()'],
      pseudo: [
        'sp = head of the NX list  # under root sp 0, invalid',
        'old = read(*sp->ptep)  # present: root sp 0 is not zapped yet',
        'write 0 to *sp->ptep  # under the invalid root',
        'handle_removed_pt(sp)  # unaccount, REMOVED, RCU free',
        'flush all TLBs',
      ],
      line: 2,
      at: { line: 15, edge: 'after' },
    },
    {
      title: 'Why it is safe',
      text:
        'The root is invalid, not freed: the invalidation holds a reference, so root sp 0 and its ' +
        'tables stay allocated until that reference is put. The write happens under mmu_lock ' +
        'with RCU held, and RCU is what keeps page-table memory valid; as Sean answered, walking ' +
        'from the root adds no protection. Writing 0 only removes a translation, as leaf zaps ' +
        'and aging already do under invalid roots, and Ben agreed an RCU-protected SP is as good ' +
        'as a walk.',
      kernel: ['kvm_tdp_mmu_get_root()', 'rcu_read_lock()', 'call_rcu()'],
      pseudo: [
        'root sp 0: invalid, refcount > 0  # the invalidation holds it',
        '  so its tables are still allocated',
        'mmu_lock held, rcu_read_lock held',
        '  so a detached table is freed only after RCU',
        'new value 0: only removes a translation',
        'no vCPU enters the guest on root sp 0 again',
      ],
      line: 2,
      at: { line: 18, edge: 'before' },
    },
    {
      title: 'The invalid root goes at last',
      text:
        'kvm_tdp_mmu_zap_invalidated_roots() zaps root sp 0 under the read lock, first at the 1G ' +
        "level and then at the root level, and puts the invalidation's reference: root sp 0 leaves " +
        'the list and is freed after a grace period. Its accounted table was already gone, so no ' +
        'stat moves. Under 5.16, this zap is what would finally have unaccounted the table.',
      kernel: [
        'kvm_tdp_mmu_zap_invalidated_roots()',
        'tdp_mmu_zap_root()',
        'kvm_tdp_mmu_put_root()',
      ],
      pseudo: [
        'for each queued invalid root r:',
        '  zap every 1G-level entry of r, then every root entry',
        "  (read lock: each detached table's 512 entries -> REMOVED)",
        "  put the invalidation's reference",
        '  refcount 0: r leaves the list, freed after RCU',
      ],
      line: 1,
      at: { line: 18, edge: 'after' },
    },
  ],
};

const RECOVERY_618_SCRIPT = [
  '# NX recovery under the read lock (6.18): one NX-split 2M frame, recovered the 6.18 way.',
  'vm kernel=6.18 levels=4 nx_huge_pages=on recovery_ratio=60',
  'memslot gpa=0x100000000 size=2M backing=2M      # one 2M host huge page',
  'access gpa=0x100000000 type=read                # a 2M leaf, X withheld, bit 63 set',
  'expect pages_2m=1 pages_4k=0 nx_lpage_splits=0 tables=2',
  'access gpa=0x100000000 type=exec                # split in place: 512 executable 4K leaves',
  'expect pages_2m=0 pages_4k=512 nx_lpage_splits=1 tables=3 tlb_flushes=0 pf_spurious=1',
  'recover_nx                                      # read lock: unaccount, check, cmpxchg, freeze',
  'expect nx_lpage_splits=0 pages_4k=0 tables=2 spte_frozen=512 spte_reads=13 tlb_flushes_full=1',
  'access gpa=0x100000000 type=read                # huge again',
  'expect pages_2m=1 pages_4k=0 nx_lpage_splits=0',
].join('\n');

const RECOVERY_618_TOUR: Tour = {
  id: 'recovery-6.18',
  title: '6.18: NX recovery under the read lock',
  summary:
    'Split in place on exec, then recovery without the write lock: unaccount first, the pointer check, a cmpxchg, 512 frozen entries.',
  script: RECOVERY_618_SCRIPT,
  steps: [
    {
      title: 'A 6.18 VM: non-present is not 0',
      text:
        'This VM follows kernel 6.18. Since 6.10 a non-present SPTE is SHADOW_NONPRESENT_VALUE, ' +
        'bit 63 set (EPT’s suppress-#VE bit), and every new table comes filled with it. Present ' +
        'SPTEs carry bit 63 too, because it is part of shadow_present_mask; bit 11 alone still ' +
        'says whether an SPTE is present.',
      kernel: ['kvm_mmu_set_ept_masks()', 'tdp_mmu_alloc_sp()'],
      pseudo: [
        'SHADOW_NONPRESENT_VALUE = 1 << 63',
        'new table: 512 x SHADOW_NONPRESENT_VALUE',
        'shadow_present_mask |= suppress #VE (bit 63)',
        'present(spte) = spte & (1 << 11)',
      ],
      line: 1,
      at: { line: 3, edge: 'after' },
    },
    {
      title: 'Read: a 2M leaf without X',
      text:
        'The guest reads the frame. KVM faults under mmu_lock held for read, links an L3 and an ' +
        'L2 table and installs a 2M leaf, 0x8600004000000bf3: present, bit 7, no X because NX ' +
        'huge pages are on, and bit 63. Every change on this path is a cmpxchg: other vCPUs may ' +
        'fault at the same time.',
      kernel: ['kvm_tdp_page_fault()', 'kvm_tdp_mmu_map()', 'make_spte()'],
      pseudo: [
        'read_lock(mmu_lock)',
        'walk from the root towards gfn:',
        '  empty entry above goal: cmpxchg a new table in',
        '  at goal (2M): cmpxchg make_spte()  # no X',
        'read_unlock(mmu_lock)',
      ],
      line: 3,
      at: { line: 4, edge: 'after' },
    },
    {
      title: 'Exec: the 2M leaf is split in place',
      text:
        'Executing from the frame needs X, which a huge leaf may not have. Since 6.2 the fault ' +
        'does not zap the leaf: tdp_mmu_split_huge_page() fills a new table with 512 4K leaves ' +
        'that map the same memory, executable again, and swaps it in with one cmpxchg ' +
        '(pages_2m 1 → 0, pages_4k 0 → 512). No TLB flush is needed: the translations did not ' +
        'change. The table is marked nx_huge_page_disallowed and goes on the NX list; the fault ' +
        'itself then finds a leaf that permits the access and is spurious.',
      kernel: ['kvm_tdp_mmu_map()', 'tdp_mmu_split_huge_page()', 'track_possible_nx_huge_page()'],
      pseudo: [
        'at level 2: a huge leaf above goal (4K)',
        '  sp = new table, nx_huge_page_disallowed = true',
        '  sp[i] = huge + i pages, 4K, X  # for i in 0..511',
        '  cmpxchg(parent, huge -> sp)',
        '  track_possible_nx_huge_page(sp)',
        'at level 1: leaf permits exec -> RET_PF_SPURIOUS',
      ],
      line: 2,
      at: { line: 6, edge: 'after' },
    },
    {
      title: 'Recovery takes the read lock, and unaccounts first',
      text:
        'kvm_recover_nx_huge_pages() holds mmu_lock for read, not write, so vCPUs keep faulting ' +
        'while it runs. For each table it takes from the head of the NX list it first ' +
        'unaccounts it, under tdp_mmu_pages_lock: the flag is cleared, the table leaves the list ' +
        'and nx_lpage_splits drops, before anything is zapped. 5.18 zapped first and let ' +
        'handle_removed_pt() unaccount.',
      kernel: ['kvm_recover_nx_huge_pages()', 'unaccount_nx_huge_page()'],
      pseudo: [
        'read_lock(mmu_lock); rcu_read_lock()',
        'to_zap = ceil(nr_pages / ratio)',
        'for each of to_zap:',
        '  sp = head of the NX list',
        '  unaccount_nx_huge_page(sp)  # first',
        '  zap_possible_nx_huge_page(sp)',
      ],
      line: 4,
      at: { line: 8, edge: 'before' },
    },
    {
      title: 'The pointer check, then a cmpxchg',
      text:
        'kvm_tdp_mmu_zap_possible_nx_huge_page() reads *sp->ptep and zaps only if it still ' +
        'points at this table; that also rules out a non-present or frozen entry. Here it does, ' +
        'so the parent goes from 0x8000000010003907 to SHADOW_NONPRESENT_VALUE by cmpxchg, with ' +
        'the bookkeeping in shared mode. One SPTE read for the whole zap.',
      kernel: ['kvm_tdp_mmu_zap_possible_nx_huge_page()', 'tdp_mmu_set_spte_atomic()'],
      pseudo: [
        'old = read(*sp->ptep)',
        'if child_pt(old) != sp->spt: return false',
        'cmpxchg(sp->ptep, old, SHADOW_NONPRESENT_VALUE)',
        'handle_changed_spte(old, new, shared = true)',
      ],
      line: 2,
      at: { line: 8, edge: 'after' },
    },
    {
      title: 'All 512 entries are frozen',
      text:
        'In shared mode handle_removed_pt() cannot trust a read, so it exchanges every one of ' +
        'the 512 entries with FROZEN_SPTE, 0x80000000000005a0, present or not, and updates the ' +
        'stats from what each exchange returned (pages_4k 512 → 0). The table is freed after an ' +
        'RCU grace period, and one full TLB flush ends the run. Under the write lock 5.18 reads ' +
        'the 512 entries and writes only the present ones.',
      kernel: ['handle_removed_pt()', 'call_rcu()', 'kvm_flush_remote_tlbs()'],
      pseudo: [
        'handle_removed_pt(sp, shared = true):',
        '  for i in 0..511:',
        '    old = xchg(sp[i], FROZEN_SPTE)',
        '    handle_changed_spte(old, FROZEN_SPTE)',
        '  call_rcu(free sp)',
        'flush all TLBs; read_unlock(mmu_lock)',
      ],
      line: 2,
      at: { line: 8, edge: 'after' },
    },
    {
      title: 'Why the read lock needs the check',
      text:
        'Once the table is unaccounted, its flag is clear, so a vCPU faulting in the same frame ' +
        'no longer has to map 4K: disallowed_hugepage_adjust() lets it replace the whole table ' +
        'with a 2M leaf by cmpxchg, freeing the table itself. A plain store through sp->ptep, as ' +
        '5.18 did under the write lock, would then wipe out that new leaf. The pointer check ' +
        'sees the parent no longer points at the table and skips it. Race mode will play that ' +
        'race; here the worker ran alone.',
      kernel: ['disallowed_hugepage_adjust()', 'kvm_tdp_mmu_zap_possible_nx_huge_page()'],
      pseudo: [
        'recovery: unaccount(sp)  # flag cleared',
        'vCPU: fault in the frame, child not disallowed',
        'vCPU: cmpxchg(parent, table -> 2M leaf)',
        'recovery: child_pt(*sp->ptep) != sp->spt',
        '  -> skip; a store would zap the new leaf',
      ],
      line: 3,
      at: { line: 10, edge: 'before' },
    },
    {
      title: 'Huge again',
      text:
        'The next read fault finds the L2 entry non-present and maps the frame with one 2M leaf ' +
        'again (pages_2m = 1): the recovery gave the guest its huge page back, without taking ' +
        'the MMU lock away from the vCPUs.',
      kernel: ['kvm_tdp_mmu_map()'],
      pseudo: [
        'fault(gfn, read): goal = 2M',
        '  L2 entry: SHADOW_NONPRESENT_VALUE',
        '  cmpxchg the 2M leaf in',
      ],
      line: 2,
      at: { line: 10, edge: 'after' },
    },
  ],
};

const RACE_618_SCRIPT = [
  '# 6.18: the NX recovery worker races a vCPU fault. Since 6.18 kvm_recover_nx_huge_pages() zaps',
  '# through sp->ptep holding mmu_lock for read, while vCPUs fault under the same read lock: nothing',
  '# keeps them apart but cmpxchg, FROZEN_SPTE, RCU and a pointer check. Each `race` block runs its',
  '# lines at once, switching actors at every SPTE read, cmpxchg and store; schedule= lists who goes',
  '# at each scheduling point (actor 0 is the first line, 1 the second; when the list runs out the',
  '# lowest-numbered actor that can go on does). Step through it, or Explore every schedule.',
  'vm kernel=6.18 vcpus=2 recovery_ratio=1',
  'memslot gpa=0x100000000 size=4M backing=2M',
  'access vcpu=0 gpa=0x100000000 type=exec         # NX: the frame is split, sp 3 on the NX list',
  'expect nx_lpage_splits=1 pages_4k=1 pages_2m=0',
  '',
  '# 1. The interleaving the pointer check is for. recovery takes sp 3 off the NX list, which also',
  '#    clears its nx_huge_page_disallowed; vcpu1 then faults a read in the same frame, finds a table',
  '#    it may replace and cmpxchgs a 2M leaf over it (tearing sp 3 down itself). When recovery reads',
  "#    *sp->ptep it finds that leaf, not sp 3's table, and zaps nothing.",
  'race schedule=1,0*3,1,1',
  '  vcpu1: access gpa=0x100001000 type=read',
  '  recovery: recover_nx',
  'end',
  'expect pages_2m=1 pages_4k=0 nx_lpage_splits=0 cmpxchg_failed=0',
  '',
  "# 2. What-if: 5.18's plain-store zap under the read lock. Here recovery reads the PDE (still sp 4)",
  "#    before vcpu1 replaces it; the vCPU's cmpxchg succeeds, then recovery's plain store overwrites",
  '#    the new 2M leaf, and its bookkeeping, trusting the stale read, tears down the old table a',
  '#    second time. The 2M mapping is gone but pages_2m still counts it: the stats no longer equal a',
  '#    recount. (Explore this block: the explorer finds it, and the merged code above has no such',
  '#    schedule.)',
  'access vcpu=0 gpa=0x100200000 type=exec         # a second split frame, sp 4 on the NX list',
  'race schedule=1,0*4,1,0,1,1,0*6,1,0,1*3',
  '  vcpu1: access gpa=0x100201000 type=read',
  '  recovery: recover_nx strategy=direct lock=read',
  'end',
  'expect pages_2m=2 nx_lpage_splits=0 tables=2    # but only one 2M leaf is present',
].join('\n');

const RACE_618_TOUR: Tour = {
  id: 'race-6.18',
  title: '6.18: recovery races a vCPU fault',
  summary:
    'Both under the read lock: the interleaving the pointer check is for, and a plain store that breaks the stats.',
  script: RACE_618_SCRIPT,
  steps: [
    {
      title: 'One NX-split frame',
      text:
        'An exec fault on a 2M-backed frame is mapped at 4K under the NX mitigation: table sp 3 ' +
        'holds one 4K leaf and is on the NX list, with nx_huge_page_disallowed set. vCPU 0 runs on ' +
        'root sp 0, and vcpu1 will load the same root. The race below runs vcpu1 (actor 0) and the ' +
        'recovery worker (actor 1) at once; its lanes under the timeline show who runs when.',
      kernel: ['kvm_tdp_mmu_map()', 'track_possible_nx_huge_page()'],
      pseudo: [
        'fault(exec, 2M-backed frame):',
        '  goal level 4K  # NX: no executable huge page',
        '  link table sp 3, sp 3.nx_huge_page_disallowed = true',
        '  NX list: [sp 3]',
      ],
      line: 2,
      at: { line: 9, edge: 'after' },
    },
    {
      title: 'Recovery unaccounts first',
      text:
        'Under the read lock, recovery takes sp 3 from the head of the NX list and unaccounts it ' +
        'before zapping anything: nx_lpage_splits drops to 0 and nx_huge_page_disallowed is ' +
        'cleared. vcpu1 meanwhile holds the read lock too, on its way to the frame.',
      kernel: ['kvm_recover_nx_huge_pages()', 'unaccount_nx_huge_page()'],
      pseudo: [
        'read_lock(mmu_lock); rcu_read_lock()',
        'for to_zap SPs:',
        '  sp = head of the NX list',
        '  unaccount(sp)  # flag cleared, off the list',
        '  zap_possible_nx_huge_page(sp)',
      ],
      line: 3,
      at: { line: 16, edge: 'after', stretch: 2 },
    },
    {
      title: 'vcpu1 puts a 2M leaf over the table',
      text:
        "vcpu1's read fault walks down to the PDE. The table there no longer has " +
        'nx_huge_page_disallowed, so nothing forces it below 2M: it cmpxchgs a 2M leaf over the ' +
        'table pointer and tears sp 3 down itself, freezing its 512 entries. sp 3 cannot be freed ' +
        'yet: recovery is still inside its RCU read-side section.',
      kernel: ['disallowed_hugepage_adjust()', 'tdp_mmu_set_spte_atomic()', 'handle_removed_pt()'],
      pseudo: [
        'walk to the PDE: a table, sp 3',
        'if sp 3.nx_huge_page_disallowed: go down to 4K',
        'else: cmpxchg(PDE, table -> 2M leaf)',
        '  handle_removed_pt(sp 3): freeze 512 entries',
        '  call_rcu(sp 3)  # waits for every reader',
      ],
      line: 2,
      at: { line: 16, edge: 'after', stretch: 3 },
    },
    {
      title: 'The pointer check',
      text:
        'Recovery now reads *sp->ptep and finds the 2M leaf, not a pointer to sp 3: the zap ' +
        'returns false and nothing is written. Without the check it would cmpxchg that leaf away, a ' +
        'mapping the vCPU just made. When recovery leaves RCU, the last reader is gone and sp 3 is ' +
        'freed. Explore this block: every schedule ends in one of two states, with no violation.',
      kernel: ['kvm_tdp_mmu_zap_possible_nx_huge_page()', 'spte_to_child_pt()'],
      pseudo: [
        'zap_possible_nx_huge_page(sp):',
        '  old = READ_ONCE(*sp->ptep)',
        '  if child_table(old) != sp.table: return false',
        '  cmpxchg(sp->ptep, old, non-present)',
      ],
      line: 2,
      at: { line: 16, edge: 'after' },
    },
    {
      title: 'What-if: a plain store under the read lock',
      text:
        "The same race with 5.18's zap: a plain store through sp->ptep, fine under the write lock " +
        'but here under the read lock. Recovery unaccounts sp 4 and reads the PDE while it still ' +
        'points at sp 4.',
      kernel: ['kvm_tdp_mmu_zap_sp() (5.18)'],
      pseudo: [
        'zap_sp(sp):  # 5.18, now under read_lock',
        '  old = *sp->ptep  # still sp 4',
        '  *sp->ptep = non-present  # a plain store',
        '  handle_changed_spte(old, non-present)',
      ],
      line: 1,
      at: { line: 29, edge: 'after', stretch: 4 },
    },
    {
      title: 'The store overwrites a new mapping',
      text:
        'vcpu1 replaces the PDE with a 2M leaf (pages_2m + 1) and starts tearing sp 4 down. Then ' +
        "recovery's plain store writes non-present over that leaf, and its bookkeeping, trusting " +
        'the old value it read, treats it as the removal of sp 4: pages_2m is not decremented.',
      kernel: ['handle_changed_spte()'],
      pseudo: [
        'PDE: sp 4 -> 2M leaf  # vcpu1, cmpxchg',
        'PDE: 2M leaf -> non-present  # recovery, plain store',
        'bookkeeping(old = sp 4, new = non-present)',
        '  # the 2M leaf is never uncounted',
      ],
      line: 2,
      at: { line: 29, edge: 'after', stretch: 6 },
    },
    {
      title: 'Stats that no longer add up',
      text:
        'At the end pages_2m says 2 while one 2M leaf is present, and sp 4 was torn down and handed ' +
        'to call_rcu() twice. Explore this block: the explorer finds these schedules and names the ' +
        'invariant each breaks, while the merged code above keeps every invariant in every schedule.',
      kernel: ['call_rcu()', 'kvm_update_page_stats()'],
      pseudo: [
        'invariant: pages_2m == present 2M leaves',
        'here: pages_2m = 2, present = 1',
        'sp 4: handle_removed_pt() twice, call_rcu() twice',
      ],
      line: 1,
      at: { line: 29, edge: 'after' },
    },
  ],
};

export const TOURS: readonly Tour[] = [
  NX_TOUR,
  ZAP_SP_TOUR,
  INVALID_ROOT_TOUR,
  RECOVERY_618_TOUR,
  RACE_618_TOUR,
];
