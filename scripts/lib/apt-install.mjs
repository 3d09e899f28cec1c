// apt-install: what the install-* scripts share: Debian's package for a tool the project needs, installed when it
// is missing. Nothing happens when `present()` says it is there. Otherwise, as root on Debian, `apt-get install
// PACKAGE` (with `apt-get update` first if the package lists are stale). Elsewhere it says what to do and exits 1.
import { spawnSync } from 'node:child_process';

/**
 * @param {{ name: string, pkg: string, present: () => string | null, elsewhere: string, note?: string }} o
 *   name: the script's name for its messages; pkg: the Debian package; present: a description of the tool when it
 *   is there (its version), else null; elsewhere: what to do where apt-get cannot run; note: said before installing.
 */
export function aptInstall(o) {
  const there = o.present();
  if (there !== null) {
    console.error(`${o.name}: ${there} is there`);
    process.exit(0);
  }
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!isRoot || !hasApt) {
    console.error(`${o.name}: ${o.elsewhere}`);
    process.exit(1);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (...args) => spawnSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'inherit'] }).status === 0;
  console.error(`${o.name}: apt-get install ${o.pkg} (Debian package${o.note ? `; ${o.note}` : ''})`);
  if (!apt('install', '-y', o.pkg)) {
    apt('update');
    if (!apt('install', '-y', o.pkg)) {
      console.error(`${o.name}: apt-get could not install ${o.pkg}`);
      process.exit(1);
    }
  }
  const now = o.present();
  if (now === null) {
    console.error(`${o.name}: ${o.pkg} installed, but the tool is still not found`);
    process.exit(1);
  }
  console.error(`${o.name}: ${now}`);
}
