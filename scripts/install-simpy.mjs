#!/usr/bin/env node
// install-simpy: Debian's python3-simpy (SimPy 2.3) for the performance benchmark's comparison (scripts/bench-
// performance.mjs runs the engine's synthetic workload in SimPy too, scripts/lib/simpy-synthetic.py). Does nothing
// when Debian's python imports SimPy. Otherwise, as root on Debian, `apt-get install python3-simpy`. Elsewhere it
// says what to do and exits 1; the benchmark then goes on without that ratio.
import { spawnSync } from 'node:child_process';
import { aptInstall } from './lib/apt-install.mjs';

const python = '/usr/bin/python3';
const versionFormat = ['-f=$', '{Version}'].join(''); // dpkg-query's own placeholder, not a template's
const version = () =>
  spawnSync('dpkg-query', ['-W', versionFormat, 'python3-simpy'], { encoding: 'utf8' }).stdout || 'python3-simpy';
aptInstall({
  name: 'install-simpy',
  pkg: 'python3-simpy',
  present: () =>
    spawnSync(python, ['-c', 'import SimPy.Simulation'], { stdio: 'ignore' }).status === 0
      ? `SimPy (${version()})`
      : null,
  elsewhere:
    'SimPy is not importable by /usr/bin/python3, and this is not root on Debian; install python3-simpy yourself',
});
