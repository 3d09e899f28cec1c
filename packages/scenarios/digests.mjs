import { runSimulation } from '@faultline/engine';
import { getScenario, POLICIES } from './dist/index.js';
for (const name of ['nowait-starvation', 'nowait-starvation-anon', 'mmap-contention']) {
  const s = getScenario(name);
  for (const policy of POLICIES) {
    const r = await runSimulation(s.build({ policy, cpus: 4, workers: 1, seed: 'ref', duration: '8ms' }));
    console.log(name, policy, r.digest.slice(0, 16), r.error?.message ?? '');
  }
}
