// SPDX-License-Identifier: GPL-2.0
/*
 * flstorm: faultline's oracle workload inside the real kernel (scripts/oracle.mjs builds, boots and reads it).
 * The kernel-storm scenario (packages/scenarios/src/kernel-storm.ts) is this module in the model, parameter for
 * parameter.
 *
 * mode=0 storm off; 1 the literal rules: GFP_NOWAIT|__GFP_NOMEMALLOC|__GFP_NOWARN, a failure retried at once (a
 * refault, never reclaims); 2 GFP_KERNEL (classic); 3 as 1, a failure falls back to GFP_KERNEL (the kernel's fallback
 * into the mmap_lock path). Every storm mask has __GFP_ZERO, as page tables do.
 * Storm: `per_cpu` kthreads bound to each CPU but CPU 0; a "fault" takes `pages` pages, then `storm_us` of busy CPU;
 * after `cycle` faults a "munmap" frees them as mm/mmu_gather.c's tlb_remove_table does: a GFP_NOWAIT|__GFP_NOWARN
 * batch page per MAX_TABLE_BATCH tables and one call_rcu per batch, the table freed at once when no batch page can
 * be had (tlb_remove_table_one).
 * Victims: one kthread bound to each CPU: alloc_page(GFP_KERNEL), a FIFO of `hold` pages, usleep_range(gap, 2 gap).
 * Measured, for the model to be given the guest's own rates and costs (guest time, ns):
 *   - direct reclaim per group from the mm_vmscan_direct_reclaim_{begin,end} tracepoints (calls, pages, time);
 *   (the reader's pages come from /proc/vmstat: a probe on mm_filemap_add_to_page_cache, patched in and out of the
 *   page cache's hottest path at every insmod and rmmod, made 6.12 under TCG oops on a stray int3 there);
 *   - kswapd's wake-up latency: mm_vmscan_wakeup_kswapd (kswapd waiting) to mm_vmscan_kswapd_wake (it runs);
 *   - CPU time (se.sum_exec_runtime) of the storm, the victims and kswapd0 over the run, and the victims' time in
 *     usleep_range (the timer and the wait for a CPU after it);
 *   - DMA32's free pages against its min and low watermarks, sampled every millisecond;
 *   - the time a failed storm allocation takes, and from call_rcu to a table batch's callback (a grace period).
 * The module's lines start with "FLK " and are key=value pairs; scripts/lib/oracle-log.mjs reads them.
 */
#include <linux/module.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/delay.h>
#include <linux/tracepoint.h>
#include <linux/sched/task.h>
#include <linux/ktime.h>

static int mode, per_cpu = 2, cycle = 1024, pages = 2, hold = 128, gap_us = 4, storm_us;
module_param(mode, int, 0444);
module_param(per_cpu, int, 0444);
module_param(cycle, int, 0444);
module_param(pages, int, 0444);
module_param(hold, int, 0444);
module_param(gap_us, int, 0444);
module_param(storm_us, int, 0444);

#define STORM_NOWAIT (GFP_NOWAIT | __GFP_NOMEMALLOC | __GFP_NOWARN)
enum { STORM, VICTIM, MON, MAXW = 256, NHIST = 16 };

struct worker {			/* the sums first: the exit path adds them up as an array of u64 */
	u64 rc_calls, rc_pages, rc_ns;
	u64 allocs, fails, fallbacks, faults, cycles, batch_fails, lat_ns, cpu_ns, sleep_ns, fail_ns;
	u64 hist[NHIST];
	u64 rc_begin, cpu_start, rc_max_ns, lat_max_ns;	/* not sums */
	struct task_struct *task;
	int kind, cpu;
};
#define NSUM (offsetof(struct worker, rc_begin) / sizeof(u64))

static struct worker w[MAXW];
static int nw;
static atomic64_t other_calls, other_pages, other_ns, ustorm_calls, ustorm_pages, ustorm_ns;
/* Direct reclaims of tasks that are not the module's (the reader, ustorm's threads) in progress, by pid: a task is
 * in at most one at a time, and may migrate while in it. */
#define NSLOT 256
static struct { atomic_t pid; u64 begin; } slot[NSLOT];
static atomic64_t mon_samples, mon_min, mon_low, gp_ns, gp_n;
static struct zone *dma32;
static struct tracepoint *tp_begin, *tp_end, *tp_wakeup, *tp_kwake;
/* kswapd's wake-up latency: wakeup_kswapd's tracepoint (it fires only when kswapd waits) to kswapd_wake's (kswapd
 * running, about to balance the node); the first wake-up of a sleep counts, later ones until kswapd runs do not. */
static atomic64_t kwake_pending, kwake_ns, kwake_n;
static u64 t_start, kswapd_start;

static struct worker *me(void)
{
	int i, n = smp_load_acquire(&nw);	/* pairs with spawn's smp_store_release */

	for (i = 0; i < n; i++)
		if (w[i].task == current)
			return &w[i];
	return NULL;
}

static void probe_begin(void *d, int order, gfp_t gfp)
{
	struct worker *x = me();
	int i, k;

	if (x) {
		x->rc_begin = ktime_get_ns();
		return;
	}
	for (i = 0; i < NSLOT; i++) {
		k = (current->pid + i) % NSLOT;
		if (atomic_cmpxchg(&slot[k].pid, 0, current->pid) == 0) {
			slot[k].begin = ktime_get_ns();
			return;
		}
	}
}

static void probe_end(void *d, unsigned long nr)
{
	struct worker *x = me();
	u64 dt = 0;
	int i, k, u;

	if (!x) {	/* the reader, the userspace storm, anyone else */
		for (i = 0; i < NSLOT; i++) {
			k = (current->pid + i) % NSLOT;
			if (atomic_read(&slot[k].pid) == current->pid) {
				dt = ktime_get_ns() - slot[k].begin;
				atomic_set(&slot[k].pid, 0);
				break;
			}
		}
		u = !strncmp(current->comm, "ustorm", 6);
		atomic64_inc(u ? &ustorm_calls : &other_calls);
		atomic64_add(nr, u ? &ustorm_pages : &other_pages);
		atomic64_add(dt, u ? &ustorm_ns : &other_ns);
		return;
	}
	dt = ktime_get_ns() - x->rc_begin;
	x->rc_calls++; x->rc_pages += nr; x->rc_ns += dt; x->rc_max_ns = max(x->rc_max_ns, dt);
}

static void probe_wakeup(void *d, int nid, int zid, int order, gfp_t gfp)
{
	atomic64_cmpxchg(&kwake_pending, 0, ktime_get_ns());
}

static void probe_kwake(void *d, int nid, int zid, int order)
{
	u64 t = atomic64_xchg(&kwake_pending, 0);

	if (t) {
		atomic64_add(ktime_get_ns() - t, &kwake_ns);
		atomic64_inc(&kwake_n);
	}
}

static void find_tp(struct tracepoint *tp, void *p)
{
	if (!strcmp(tp->name, "mm_vmscan_direct_reclaim_begin")) tp_begin = tp;
	if (!strcmp(tp->name, "mm_vmscan_direct_reclaim_end")) tp_end = tp;
	if (!strcmp(tp->name, "mm_vmscan_wakeup_kswapd")) tp_wakeup = tp;
	if (!strcmp(tp->name, "mm_vmscan_kswapd_wake")) tp_kwake = tp;
}

/* DMA32's free pages (the counter the watermark check reads) below its min (wm 0) or low (wm 1) watermark. */
static int below(int wm)
{
	unsigned long f = zone_page_state(dma32, NR_FREE_PAGES);

	return wm ? f < low_wmark_pages(dma32) : f < min_wmark_pages(dma32);
}

struct batch { struct rcu_head rcu; unsigned int nr; u32 queued_us; struct page *pages[]; };	/* 509 a page */
#define MAX_TABLE_BATCH ((PAGE_SIZE - sizeof(struct batch)) / sizeof(struct page *))

static void batch_free(struct rcu_head *h)
{
	struct batch *b = container_of(h, struct batch, rcu);
	unsigned int i;

	atomic64_add((u32)(ktime_get_ns() / 1000 - b->queued_us) * 1000ULL, &gp_ns);	/* call_rcu to callback */
	atomic64_inc(&gp_n);
	for (i = 0; i < b->nr; i++)
		__free_page(b->pages[i]);
	free_page((unsigned long)b);
}

static void unmap_all(struct worker *x, struct page **held, int n)
{
	struct batch *b = NULL;
	int i;

	for (i = 0; i < n; i++) {
		if (!b) {
			b = (struct batch *)__get_free_page(GFP_NOWAIT | __GFP_NOWARN);
			if (b)
				b->nr = 0;
		}
		if (!b) {
			x->batch_fails++;
			__free_page(held[i]);
			continue;
		}
		b->pages[b->nr++] = held[i];
		if (b->nr == MAX_TABLE_BATCH) {
			b->queued_us = ktime_get_ns() / 1000;
			call_rcu(&b->rcu, batch_free);
			b = NULL;
		}
	}
	if (b) {
		b->queued_us = ktime_get_ns() / 1000;
		call_rcu(&b->rcu, batch_free);
	}
}

static int storm_fn(void *p)
{
	struct worker *x = p;
	gfp_t gfp = (mode == 2 ? GFP_KERNEL : STORM_NOWAIT) | __GFP_ZERO;
	int max = pages * cycle, n, k;
	struct page **held = kvmalloc_array(max, sizeof(*held), GFP_KERNEL);
	struct page *pg;
	u64 t0;

	if (!held)
		return -ENOMEM;
	while (!kthread_should_stop()) {
		for (n = 0; n < max && !kthread_should_stop();) {
			t0 = ktime_get_ns();
			pg = alloc_page(gfp);
			if (!pg) {
				x->fail_ns += ktime_get_ns() - t0;	/* what a failed attempt costs */
				x->fails++;
				if (mode == 3) {
					x->fallbacks++;
					pg = alloc_page(GFP_KERNEL | __GFP_ZERO);
				}
				if (!pg) {
					cond_resched();
					continue;	/* a refault: the same fault again */
				}
			}
			x->allocs++;
			held[n++] = pg;
			if (n % pages == 0) {
				x->faults++;
				for (k = 0; k < storm_us; k += 10)
					udelay(min(10, storm_us - k));
				cond_resched();
			}
		}
		unmap_all(x, held, n);
		x->cycles++;
	}
	kvfree(held);
	return 0;
}

static int victim_fn(void *p)
{
	struct worker *x = p;
	struct page **ring = kcalloc(hold + 1, sizeof(*ring), GFP_KERNEL);
	int head = 0, cnt = 0;
	u64 t0, dt;
	struct page *pg;

	if (!ring)
		return -ENOMEM;	/* sleep_ns: usleep_range's time, the timer's and the wait for the CPU after it */
	while (!kthread_should_stop()) {
		t0 = ktime_get_ns();
		pg = alloc_page(GFP_KERNEL);
		dt = ktime_get_ns() - t0;
		x->lat_ns += dt; x->lat_max_ns = max(x->lat_max_ns, dt);
		x->hist[min(ilog2(dt / 1000 + 1), NHIST - 1)]++;
		if (!pg) {
			x->fails++;
		} else {
			x->allocs++;
			ring[(head + cnt) % (hold + 1)] = pg;
			cnt++;
		}
		if (cnt > hold) {
			__free_page(ring[head]);
			head = (head + 1) % (hold + 1);
			cnt--;
		}
		t0 = ktime_get_ns();
		usleep_range(gap_us, 2 * gap_us);
		x->sleep_ns += ktime_get_ns() - t0;
	}
	while (cnt--) {
		__free_page(ring[head]);
		head = (head + 1) % (hold + 1);
	}
	kfree(ring);
	return 0;
}

static int mon_fn(void *p)
{
	for (; !kthread_should_stop(); usleep_range(1000, 1000)) {
		atomic64_inc(&mon_samples);
		if (below(0)) atomic64_inc(&mon_min);
		if (below(1)) atomic64_inc(&mon_low);
	}
	return 0;
}

static void spawn(int kind, int cpu, int (*fn)(void *), const char *name)
{
	struct task_struct *t;

	if (nw >= MAXW)
		return;
	w[nw].kind = kind;
	w[nw].cpu = cpu;
	t = kthread_create_on_cpu(fn, &w[nw], cpu, name);
	if (IS_ERR(t))
		return;
	w[nw].task = get_task_struct(t);
	w[nw].cpu_start = t->se.sum_exec_runtime;
	smp_store_release(&nw, nw + 1);	/* the probes look tasks up in w[0..nw) */
	wake_up_process(t);
}

static u64 kswapd_runtime(void)
{
	struct task_struct *k = NODE_DATA(0)->kswapd;

	return k ? k->se.sum_exec_runtime : 0;
}

static int __init flstorm_init(void)
{
	int cpu, k;

	if (pages < 1 || cycle < 1 || per_cpu < 0 || hold < 0 || gap_us < 1 || storm_us < 0)
		return -EINVAL;
	dma32 = &NODE_DATA(0)->node_zones[ZONE_DMA32];
	for_each_kernel_tracepoint(find_tp, NULL);
	if (!tp_begin || !tp_end || !tp_wakeup || !tp_kwake)
		return -ENOENT;
	tracepoint_probe_register(tp_begin, probe_begin, NULL);
	tracepoint_probe_register(tp_end, probe_end, NULL);
	tracepoint_probe_register(tp_wakeup, probe_wakeup, NULL);
	tracepoint_probe_register(tp_kwake, probe_kwake, NULL);
	t_start = ktime_get_ns();
	kswapd_start = kswapd_runtime();
	for_each_online_cpu(cpu) {
		spawn(VICTIM, cpu, victim_fn, "flvictim/%u");
		if (mode && (cpu || num_online_cpus() == 1))
			for (k = 0; k < per_cpu; k++)
				spawn(STORM, cpu, storm_fn, "flstorm/%u");
	}
	spawn(MON, 0, mon_fn, "flmon/%u");
	pr_info("FLK start mode=%d per_cpu=%d cycle=%d pages=%d hold=%d gap_us=%d storm_us=%d threads=%d batch=%lu\n",
		mode, per_cpu, cycle, pages, hold, gap_us, storm_us, nw, (unsigned long)MAX_TABLE_BATCH);
	return 0;
}

static void __exit flstorm_exit(void)
{
	struct worker s[2] = {};
	u64 secs_ns = ktime_get_ns() - t_start, kswapd_ns = kswapd_runtime() - kswapd_start;
	char h[NHIST * 12];
	int i, g, b, len, n[2] = {};

	for (i = 0; i < nw; i++)
		kthread_stop(w[i].task);
	/* The probes go before the task structs do: me() must not match a recycled one. */
	tracepoint_probe_unregister(tp_begin, probe_begin, NULL);
	tracepoint_probe_unregister(tp_end, probe_end, NULL);
	tracepoint_probe_unregister(tp_wakeup, probe_wakeup, NULL);
	tracepoint_probe_unregister(tp_kwake, probe_kwake, NULL);
	tracepoint_synchronize_unregister();
	for (i = 0; i < nw; i++) {
		w[i].cpu_ns = w[i].task->se.sum_exec_runtime - w[i].cpu_start;
		put_task_struct(w[i].task);
	}
	rcu_barrier();
	for (i = 0; i < nw; i++) {
		u64 *a, *x = &w[i].rc_calls;

		if (w[i].kind == MON)
			continue;
		g = w[i].kind;
		n[g]++;
		a = &s[g].rc_calls;
		for (b = 0; b < NSUM; b++)
			a[b] += x[b];	/* sums; the maxima below */
		s[g].rc_max_ns = max(s[g].rc_max_ns, w[i].rc_max_ns);
		s[g].lat_max_ns = max(s[g].lat_max_ns, w[i].lat_max_ns);
	}
	for (g = 0; g < 2; g++) {
		struct worker *a = &s[g];

		for (b = 0, len = 0; b < NHIST; b++)
			len += scnprintf(h + len, sizeof(h) - len, "%s%llu", b ? "," : "", a->hist[b]);
		pr_info("FLK %s mode=%d threads=%d allocs=%llu fails=%llu fallbacks=%llu faults=%llu cycles=%llu "
			"batch_fails=%llu rc_calls=%llu rc_pages=%llu rc_ns=%llu rc_max_ns=%llu lat_ns=%llu "
			"lat_max_ns=%llu cpu_ns=%llu sleep_ns=%llu fail_ns=%llu hist_log2us=%s\n",
			g == STORM ? "storm" : "victim", mode, n[g],
			a->allocs, a->fails, a->fallbacks, a->faults, a->cycles, a->batch_fails, a->rc_calls, a->rc_pages,
			a->rc_ns, a->rc_max_ns, a->lat_ns, a->lat_max_ns, a->cpu_ns, a->sleep_ns, a->fail_ns, h);
	}
	pr_info("FLK other mode=%d secs_ns=%llu kswapd_cpu_ns=%llu rc_calls=%lld rc_pages=%lld "
		"rc_ns=%lld ustorm_rc_calls=%lld ustorm_rc_pages=%lld ustorm_rc_ns=%lld mon_samples=%lld "
		"mon_below_min=%lld mon_below_low=%lld gp_ns=%lld gp_n=%lld kswapd_wake_ns=%lld kswapd_wake_n=%lld\n",
		mode, secs_ns, kswapd_ns,
		atomic64_read(&other_calls), atomic64_read(&other_pages),
		atomic64_read(&other_ns), atomic64_read(&ustorm_calls), atomic64_read(&ustorm_pages),
		atomic64_read(&ustorm_ns), atomic64_read(&mon_samples), atomic64_read(&mon_min), atomic64_read(&mon_low),
		atomic64_read(&gp_ns), atomic64_read(&gp_n), atomic64_read(&kwake_ns), atomic64_read(&kwake_n));
}

module_init(flstorm_init);
module_exit(flstorm_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("faultline oracle: a page-table allocation storm beside GFP_KERNEL victims");
