// The faultline command as a user runs it: the built bin, its output and its errors.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

describe('faultline demo', () => {
  it('prints the band table for both kernels and the threaded counts, with every page accounted for', () => {
    const r = run('demo', '--cpus', '2', '--pages', '4096', '--ops', '20000', '--seed', 'cli-test');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('seed=cli-test');
    expect(r.stdout).toMatch(/GFP_KERNEL, realtime task\s+fast\s+fast\s+slow\s+slow\s+reclaim \/ slow/);
    expect(r.stdout).toMatch(/page tables, SPF mask\s+\d+/);
    expect(r.stdout).toMatch(/\(4096 in all; every page accounted for\)/);
    expect(r.stdout).toContain('after freeing everything: 4096 free, 0 allocated');
    // The SPF mask is refused somewhere below min while GFP_KERNEL would reclaim there instead.
    const spf = r.stdout.match(/page tables, SPF mask\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/);
    expect(spf).not.toBeNull();
    expect(Number(spf![6])).toBeGreaterThan(0);
    expect(Number(spf![7])).toBe(0);
  });
  it('refuses a bad option with its name and the allowed range', () => {
    const r = run('demo', '--cpus', '0');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('--cpus must be an integer from 1 to 64');
    const p = run('demo', '--pages', '12x');
    expect(p.stderr).toContain("--pages must be an integer from 1024 to 4194304; got '12x'");
  });
  it('names an unknown command', () => {
    const r = run('frobnicate');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
  });
});
