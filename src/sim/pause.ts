// Operations that can pause. A kernel operation is a generator that yields before each access of
// state another actor could touch (an SPTE read, cmpxchg, xchg or store; the NX list), but only
// while a race runs: one statement at a time, nothing yields and drain() runs it straight through.
export type Op<R> = Generator<void, R, void>;

/** Run an operation to its end (a statement alone, or a race's actor given every turn). */
export function drain<R>(op: Op<R>): R {
  let r = op.next();
  while (!r.done) r = op.next();
  return r.value;
}
