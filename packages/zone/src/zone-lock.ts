// zone-lock: the zone's spinlock (zone->lock), a futex-style mutex on one Int32 word: 0 free, 1 held, 2 held with
// waiters. It spins briefly (the holder's critical sections are short), then sleeps in Atomics.wait.
// Ordering: every acquire and release is a sequentially consistent Atomics operation, so plain writes made under the
// lock are visible to the next holder.
import { H_LOCK, H_LOCK_ACQUIRES, H_LOCK_CONTENDED } from './layout.js';

const SPINS_BEFORE_SLEEP = 128;

export function zoneLock(a: Int32Array): void {
  let c = Atomics.compareExchange(a, H_LOCK, 0, 1);
  if (c === 0) {
    a[H_LOCK_ACQUIRES]!++;
    return;
  }
  for (let i = 0; i < SPINS_BEFORE_SLEEP; i++) {
    if (Atomics.load(a, H_LOCK) === 0 && Atomics.compareExchange(a, H_LOCK, 0, 1) === 0) {
      a[H_LOCK_ACQUIRES]!++;
      a[H_LOCK_CONTENDED]!++;
      return;
    }
  }
  // Mark the lock contended; whoever holds it will notify on release. Wait only while the word is still 2, so a
  // release between our exchange and our wait is never missed.
  if (c !== 2) c = Atomics.exchange(a, H_LOCK, 2);
  while (c !== 0) {
    Atomics.wait(a, H_LOCK, 2);
    c = Atomics.exchange(a, H_LOCK, 2);
  }
  a[H_LOCK_ACQUIRES]!++;
  a[H_LOCK_CONTENDED]!++;
}

export function zoneUnlock(a: Int32Array): void {
  // 1 -> 0: nobody waits. 2 -> 1 means waiters may sleep: release fully and wake one.
  if (Atomics.sub(a, H_LOCK, 1) !== 1) {
    Atomics.store(a, H_LOCK, 0);
    Atomics.notify(a, H_LOCK, 1);
  }
}
