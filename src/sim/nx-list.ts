// possible_nx_huge_pages (5.x: lpage_disallowed_mmu_pages): the NX-accounted tables in the order
// they were accounted. The kernel's list_head unlinks in O(1); so does this, a Set keeping
// insertion order, where an array's indexOf + splice made recovery over 40k tables quadratic.
import type { Sp } from './kvm.ts';

export class NxList implements Iterable<Sp> {
  private readonly set = new Set<Sp>();

  get size(): number {
    return this.set.size;
  }

  /** list_add_tail() */
  push(sp: Sp): void {
    this.set.add(sp);
  }

  /** list_del() */
  remove(sp: Sp): void {
    this.set.delete(sp);
  }

  has(sp: Sp): boolean {
    return this.set.has(sp);
  }

  /** The oldest entry, where recovery starts (list_first_entry()). */
  head(): Sp | undefined {
    for (const sp of this.set) return sp;
    return undefined;
  }

  clear(): void {
    this.set.clear();
  }

  [Symbol.iterator](): Iterator<Sp> {
    return this.set.values();
  }
}
