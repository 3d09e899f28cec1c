// counters: the per-owner accounting counters, named once, and their rows. An owner is whoever the caller says
// allocated: a task, a kernel thread, a scenario's actor. Each CPU keeps its own row per owner (no shared cache line
// on the hot path); readers sum the rows. Values are Float64 so long runs do not wrap.

export const ACCOUNT_COUNTERS = [
  'allocCalls',
  'pagesGranted',
  'grantsFast',
  'grantsSlow',
  'grantsEmergency',
  'fails',
  'reclaimVerdicts',
  'pagesGrantedBelowMin',
  'pagesFreed',
  'pagesReclaimed',
  'kswapdWakes',
  'minFreeSeenAtGrant',
  // Pages granted and freed whose mask had __GFP_ACCOUNT: the owner's memcg charge is the difference.
  'pagesCharged',
  'pagesUncharged',
] as const;
export type AccountCounter = (typeof ACCOUNT_COUNTERS)[number];
export const ACCOUNT_COUNTER_COUNT = ACCOUNT_COUNTERS.length;
export const ACCT: Readonly<Record<AccountCounter, number>> = Object.freeze(
  Object.fromEntries(ACCOUNT_COUNTERS.map((name, i) => [name, i])) as Record<AccountCounter, number>,
);
/** Counters that hold a minimum rather than a sum; they start at +Infinity. */
export const ACCOUNT_MIN_COUNTERS: readonly AccountCounter[] = ['minFreeSeenAtGrant'];

export type AccountRow = Record<AccountCounter, number>;

export function emptyAccountRow(): AccountRow {
  const row = Object.fromEntries(ACCOUNT_COUNTERS.map((n) => [n, 0])) as AccountRow;
  for (const n of ACCOUNT_MIN_COUNTERS) row[n] = Infinity;
  return row;
}

export function addAccountRows(into: AccountRow, from: AccountRow): AccountRow {
  for (const n of ACCOUNT_COUNTERS) {
    into[n] = ACCOUNT_MIN_COUNTERS.includes(n) ? Math.min(into[n], from[n]) : into[n] + from[n];
  }
  return into;
}

/** Whether counter i holds a minimum (else a sum), by index. */
const IS_MIN = ACCOUNT_COUNTERS.map((n) => ACCOUNT_MIN_COUNTERS.includes(n));

/** Where an owner's row on a CPU starts in `acct` (its counter i is at that index + i; only that CPU writes it). */
export function accountIndex(cpuStrideF64: number, cpu: number, owner: number): number {
  return cpu * cpuStrideF64 + owner * ACCOUNT_COUNTER_COUNT;
}

/** Start the rows of a new zone's `acct` (all zeros): its minimum counters at +Infinity. */
export function initAccountRows(acct: Float64Array, cpuStrideF64: number, cpus: number, owners: number): void {
  for (let cpu = 0; cpu < cpus; cpu++) {
    for (let owner = 0; owner < owners; owner++) {
      for (const name of ACCOUNT_MIN_COUNTERS) acct[accountIndex(cpuStrideF64, cpu, owner) + ACCT[name]] = Infinity;
    }
  }
}

/** An owner's counters summed over the CPUs' rows of `acct` (each CPU's row holds every owner's counters). One
 * row object per call, whatever the CPU count: a 1024-CPU run's result reads thousands of owners. */
export function sumAccountRows(acct: Float64Array, cpuStrideF64: number, cpus: number, owner: number): AccountRow {
  const total = emptyAccountRow();
  for (let i = 0; i < ACCOUNT_COUNTER_COUNT; i++) {
    let v = IS_MIN[i] ? Infinity : 0;
    for (let cpu = 0, at = owner * ACCOUNT_COUNTER_COUNT + i; cpu < cpus; cpu++, at += cpuStrideF64)
      v = IS_MIN[i] ? Math.min(v, acct[at]!) : v + acct[at]!;
    total[ACCOUNT_COUNTERS[i]!] = v;
  }
  return total;
}

/** Every owner's counters summed over CPUs, in one sequential pass over `acct` (the same sums, in the same CPU
 * order, as sumAccountRows owner by owner). */
export function sumAllAccountRows(
  acct: Float64Array,
  cpuStrideF64: number,
  cpus: number,
  owners: number,
): AccountRow[] {
  const n = owners * ACCOUNT_COUNTER_COUNT;
  const totals = new Float64Array(n);
  for (let j = 0; j < n; j++) if (IS_MIN[j % ACCOUNT_COUNTER_COUNT]) totals[j] = Infinity;
  for (let cpu = 0; cpu < cpus; cpu++) {
    const base = cpu * cpuStrideF64;
    for (let j = 0; j < n; j++)
      totals[j] = IS_MIN[j % ACCOUNT_COUNTER_COUNT]
        ? Math.min(totals[j]!, acct[base + j]!)
        : totals[j]! + acct[base + j]!;
  }
  return Array.from({ length: owners }, (_, o) => {
    const row = emptyAccountRow();
    for (let i = 0; i < ACCOUNT_COUNTER_COUNT; i++) row[ACCOUNT_COUNTERS[i]!] = totals[o * ACCOUNT_COUNTER_COUNT + i]!;
    return row;
  });
}

/** One counter (a sum) over every owner and CPU of `acct`. */
export function sumAccountCounter(
  acct: Float64Array,
  cpuStrideF64: number,
  cpus: number,
  owners: number,
  counter: number,
): number {
  let v = 0;
  for (let cpu = 0; cpu < cpus; cpu++)
    for (let o = 0, at = cpu * cpuStrideF64 + counter; o < owners; o++, at += ACCOUNT_COUNTER_COUNT) v += acct[at]!;
  return v;
}
