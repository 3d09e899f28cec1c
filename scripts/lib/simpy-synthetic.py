# simpy-synthetic: the engine benchmark's synthetic workload (packages/engine/bench/tasks/synthetic.mjs) in SimPy 2.3
# (Debian's python3-simpy), for the performance benchmark's ratio: per CPU a process of computes of 200-600 ns,
# every tenth event taking or giving back a page of a shared pool, and a fraction `cross` of events sending a
# message to another CPU's store. Prints one line of JSON: events and host seconds. Seeded, like the engine's.
# Usage: /usr/bin/python3 simpy-synthetic.py CPUS SIMULATED_NS CROSS SEED
import json
import random
import sys
import time

from SimPy.Simulation import Process, Store, activate, hold, initialize, put, simulate

cpus, until_ns, cross, seed = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
events = 0
free_pages = [cpus * 1024]


class Cpu(Process):
    def work(self, me, inboxes, rng):
        global events
        held = 0
        i = 0
        while True:
            yield hold, self, 200 + (i * 37) % 400
            events += 1
            if i % 10 == 0:
                if held < 32 and free_pages[0] > 0:
                    free_pages[0] -= 1
                    held += 1
                elif held > 0:
                    free_pages[0] += 1
                    held -= 1
                events += 1
            if rng.random() < cross:
                dst = (me + 1 + int(rng.random() * (cpus - 1))) % cpus
                yield put, self, inboxes[dst], [i]
                events += 1
            i += 1


initialize()
inboxes = [Store(capacity='unbounded') for _ in range(cpus)]
procs = []
for c in range(cpus):
    p = Cpu()
    procs.append(p)
    activate(p, p.work(c, inboxes, random.Random(f"{seed}/{c}")))
t0 = time.perf_counter()
simulate(until=until_ns)
print(json.dumps({"events": events, "hostSeconds": time.perf_counter() - t0}))
