// ustorm THREADS_PER_CPU CYCLE SECS: a real page-fault storm, the kernel's own fault path (the mmap_lock fault on
// 6.1, lock_vma_under_rcu on 6.12). Threads bound to each CPU but CPU 0 read-touch a 1 TiB anonymous PROT_READ
// mapping 1 GiB apart, so that each fault maps the zero page and allocates a PMD and a PTE table (GFP_PGTABLE_USER)
// and nothing else (the model's nowait-starvation storm: two table pages a fault); every CYCLE faults the thread
// unmaps the mapping (its tables freed) and maps it again.
// Prints one line: =====FL_USTORM threads=N faults=F cpu_ns=C secs_ns=S (guest time; C from getrusage).
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define TIB (1UL << 40)
#define GIB (1UL << 30)
#define MAXT 256
static int cycle;
static volatile int stop;
static unsigned long faults[MAXT];

static void *run(void *arg)
{
	long k = (long)arg;
	unsigned long seed = k + 1;
	volatile char sink = 0;

	while (!stop) {
		char *b = mmap(NULL, TIB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (b == MAP_FAILED) {
			perror("mmap");
			return NULL;
		}
		madvise(b, TIB, MADV_NOHUGEPAGE);
		for (int i = 0; i < cycle && !stop; i++) {
			seed = seed * 6364136223846793005UL + 1442695040888963407UL;
			sink += b[(i * GIB) % TIB + ((seed >> 33) % 512) * 4096];
			faults[k]++;
		}
		munmap(b, TIB);
	}
	return NULL;
}

static unsigned long long ns(struct timespec t) { return t.tv_sec * 1000000000ULL + t.tv_nsec; }

int main(int argc, char **argv)
{
	int per = argc > 1 ? atoi(argv[1]) : 2, secs = argc > 3 ? atoi(argv[3]) : 10;
	int ncpu = sysconf(_SC_NPROCESSORS_ONLN), n = 0;
	unsigned long total = 0;
	pthread_t t[MAXT];
	struct timespec t0, t1;
	struct rusage ru;

	cycle = argc > 2 ? atoi(argv[2]) : 1024;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int c = ncpu > 1 ? 1 : 0; c < ncpu; c++)
		for (int j = 0; j < per && n < MAXT; j++, n++) {
			pthread_attr_t a;
			cpu_set_t s;

			CPU_ZERO(&s);
			CPU_SET(c, &s);
			pthread_attr_init(&a);
			pthread_attr_setaffinity_np(&a, sizeof(s), &s);
			pthread_create(&t[n], &a, run, (void *)(long)n);
		}
	sleep(secs);
	stop = 1;
	for (int i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		total += faults[i];
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_SELF, &ru);
	printf("=====FL_USTORM threads=%d faults=%lu cpu_ns=%llu secs_ns=%llu\n", n, total,
	       (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ULL +
		       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL,
	       ns(t1) - ns(t0));
	return 0;
}
