// A user's fault policy with a bug: it works for a while, then throws on its 10th fault.
let faults = 0;
export function* broken(f) {
  yield f.task.compute(100);
  if (++faults === 10) throw new Error('my policy forgot the PMD');
  const page = yield f.task.alloc('GFP_KERNEL');
  f.install(4, page, false, 0);
  return page;
}
