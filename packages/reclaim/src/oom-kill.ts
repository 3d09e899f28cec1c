// oom-kill: whom the OOM killer kills (mm/oom_kill.c): select_bad_process over the killable tasks - not kernel
// threads, not oom_score_adj -1000 (oom_unkillable_task, oom_badness), inside a memcg when the memcg's limit is what
// ran out (mem_cgroup_out_of_memory) - by oom_badness, the pages a process holds (its RSS and page tables; page
// cache is not its to lose). A process is the tasks that share an address space (args.mm, the mm module's; a task
// without one is a process of its own): oom_kill_process kills every task sharing the victim's mm. The commit
// (commit.ts) carries the kill out: the oom_reaper's freeing, the answers, and no new victim while one is exiting.
import type { RunConfig } from '@faultline/engine';
import { __GFP_ZERO } from '@faultline/gfp';
import type { MemoryNode } from '@faultline/zone';
import { LRU_FILE, LRU_FILE_DIRTY } from './layout.js';
import type { NodeLru } from './lru.js';

type Task = RunConfig['tasks'][number];

/** Tasks the OOM killer never picks: kernel threads (oom_unkillable_task: PF_KTHREAD; kswapd, and tasks whose args
 * say kthread: true) and tasks whose args say oomScoreAdj: -1000 (oom_badness: OOM_SCORE_ADJ_MIN). */
export function unkillable(config: RunConfig): Set<number> {
  return new Set(
    config.tasks
      .filter((t) => t.export === 'kswapd' || t.args.kthread === true || t.args.oomScoreAdj === -1000)
      .map((t) => t.id),
  );
}

/** What each owner holds: the pages oom_badness counts, and those a kill frees at once (all but page tables, which
 * go with the address space: exit_mmap, or after an RCU grace period; zeroed pages are page tables and
 * tlb_remove_table's batches). */
export type Holdings = Map<number, { pages: number; freed: number[] }>;

export function holdings(node: MemoryNode, lru: NodeLru): Holdings {
  const held: Holdings = new Map();
  node.eachAllocated((pfn, owner, mask) => {
    const k = lru.kindOf(pfn);
    if (k === LRU_FILE || k === LRU_FILE_DIRTY) return; // page cache is not the task's to lose
    let h = held.get(owner);
    if (h === undefined) held.set(owner, (h = { pages: 0, freed: [] }));
    h.pages++;
    if ((mask & __GFP_ZERO) === 0) h.freed.push(pfn);
  });
  return held;
}

/** select_bad_process: the tasks of the killable process that holds the most pages (inside memcg `group` when it
 * is 0 or more), none already killed; empty when no candidate holds any. `heldBy` gives a task's holdings. */
export function selectBadProcess(
  config: RunConfig,
  killed: ReadonlySet<number>,
  taskGroup: readonly number[],
  group: number,
  heldBy: (t: Task) => { pages: number } | undefined,
): Task[] {
  const spared = unkillable(config);
  const candidates = config.tasks.filter(
    (t) => !spared.has(t.id) && !killed.has(t.id) && (group < 0 || taskGroup[t.id] === group),
  );
  const processOf = (t: Task) => (t.args.mm !== undefined ? `mm ${t.args.mm}` : `task ${t.id}`);
  const badness = new Map<string, number>();
  for (const t of candidates) badness.set(processOf(t), (badness.get(processOf(t)) ?? 0) + (heldBy(t)?.pages ?? 0));
  let chosen = '';
  let most = 0;
  for (const [p, n] of badness) if (n > most) [chosen, most] = [p, n];
  if (most === 0) return [];
  return candidates.filter((t) => processOf(t) === chosen);
}
