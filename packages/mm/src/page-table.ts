// page-table: one address space's page tables as a hash from (level, index) to the pfn of the page that holds that
// level for the address - x86-64's four levels with P4D folded: a PUD table per PGD entry, a PMD table per PUD
// entry, a PTE table per PMD entry, and the data page per PTE. The PGD itself is allocated with the address space.
// Open addressing with linear probing over a Float64Array of [key, pfn] pairs, deletion by backward shift (no
// tombstones, so lookups stay short however many tables come and go); written only by the commit. Each entry is
// also on a list of the entries under its PGD entry (512 GiB of address space), so that munmap's range walk visits
// the entries of the regions it covers, as the kernel's free_pgd_range walks only the range, instead of every slot.
// A range much smaller than its regions' population (one thread's VMA among many in one PGD entry) is walked the
// other way: each key the range could hold is looked up, level by level, which also comes out in key order.

export const LEVEL_PUD = 1;
export const LEVEL_PMD = 2;
export const LEVEL_PTE = 3;
export const LEVEL_PAGE = 4;
export const LEVEL_NAMES = ['', 'pud', 'pmd', 'pte', 'page'] as const;
/** The address bits above which one entry of the level covers: a PUD table covers 512 GiB (a PGD entry), ... */
const LEVEL_SHIFT = [0, 39, 30, 21, 12] as const;
/** The bytes one entry of each level covers: 2 ** LEVEL_SHIFT, computed once. */
const SPAN = LEVEL_SHIFT.map((s) => 2 ** s);
const KEY_LEVEL = 2 ** 37;
const EMPTY = 0;
export const VA_BITS = 48;
/** PGD entries: the regions the range index keeps a list for. */
export const PGD_ENTRIES = 512;
const REGION_SHIFT = 39;

/** Float64 words a table of this many slots needs: [key, pfn] and [next, prev] per slot, and a list head and an
 * entry count per PGD entry. */
export function pageTableWords(slots: number): number {
  return slots * 4 + PGD_ENTRIES * 2;
}

/** A key lookup (hash, probe, compare) is taken to cost this many steps of a region walk: lookups are used only
 * when the range holds fewer possible pages than half its regions' entries (packages/mm/bench/page-table-range.mjs
 * times both shapes). */
const LOOKUP_STEPS = 2;

/** Slots for a hash that will hold up to `entries` entries at a load of one half at most: a power of two, and no
 * fewer than the mm module's default (2^16). Scenarios size their tables with it. */
export function tableSlotsFor(entries: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1 << 16, entries * 2)));
}

export function pageTableKey(level: number, address: number): number {
  return level * KEY_LEVEL + Math.floor(address / SPAN[level]!);
}

export function keyLevel(key: number): number {
  return Math.floor(key / KEY_LEVEL);
}

/** The first address a key covers. */
export function keyAddress(key: number): number {
  const level = keyLevel(key);
  return (key - level * KEY_LEVEL) * SPAN[level]!;
}

/** The PGD entry (region) an entry's address lies under. */
function regionOf(key: number): number {
  return Math.floor(keyAddress(key) / 2 ** REGION_SHIFT);
}

export class PageTableHash {
  private readonly shift: number;
  /** Where slot i's [next, prev] links are (slot + 1, 0 for none: zeroed memory is an empty index). */
  private readonly links: number;
  /** Where the list head of each region is (slot + 1, or 0), and its entry count. */
  private readonly heads: number;
  private readonly counts: number;
  /** Whether the last slotsWithin() came out in key order (the lookups do; a region walk does not). */
  private inKeyOrder = false;
  /** Scratch for range walks (this view's own; walks do not nest). */
  private readonly found: number[] = [];

  /** `m` holds pageTableWords(slots) words from `offset`, zeroed before first use. */
  constructor(
    private readonly m: Float64Array,
    private readonly offset: number,
    readonly slots: number,
  ) {
    if (!(slots >= 2 && slots <= 2 ** 30 && (slots & (slots - 1)) === 0))
      throw new RangeError(`page table slots must be a power of two from 2 to 2^30; got ${slots}`);
    if (m.length < offset + pageTableWords(slots)) {
      throw new RangeError(`page table of ${slots} slots needs ${pageTableWords(slots)} words from ${offset}`);
    }
    this.shift = 32 - Math.log2(slots);
    this.links = offset + 2 * slots;
    this.heads = offset + 4 * slots;
    this.counts = this.heads + PGD_ENTRIES;
  }

  /** Put slot i at the head of its entry's region list. */
  private link(i: number, key: number): void {
    const m = this.m;
    const h = this.heads + regionOf(key);
    const first = m[h]!;
    m[this.links + 2 * i] = first;
    m[this.links + 2 * i + 1] = 0;
    if (first !== 0) m[this.links + 2 * (first - 1) + 1] = i + 1;
    m[h] = i + 1;
    m[this.counts + regionOf(key)]!++;
  }

  /** Take slot i off its region list, or (to !== -1) put slot `to` in its place there. */
  private relink(i: number, key: number, to: number): void {
    const m = this.m;
    const next = m[this.links + 2 * i]!;
    const prev = m[this.links + 2 * i + 1]!;
    const into = to < 0 ? 0 : to + 1;
    if (prev !== 0) m[this.links + 2 * (prev - 1)] = into === 0 ? next : into;
    else m[this.heads + regionOf(key)] = into === 0 ? next : into;
    if (next !== 0) m[this.links + 2 * (next - 1) + 1] = into === 0 ? prev : into;
    if (to >= 0) {
      m[this.links + 2 * to] = next;
      m[this.links + 2 * to + 1] = prev;
    } else m[this.counts + regionOf(key)]!--;
    m[this.links + 2 * i] = 0;
    m[this.links + 2 * i + 1] = 0;
  }

  private home(key: number): number {
    // Fibonacci hashing: the key's high part mixed into its low part, then the product's top bits (the low bits of
    // a product depend only on the low bits of the key, and strided addresses share those).
    const lo = (key % 0x4000_0000) | 0;
    const hi = Math.floor(key / 0x4000_0000) | 0;
    return (Math.imul(lo ^ Math.imul(hi, 0x85eb_ca6b), 0x9e37_79b1) >>> 0) >>> this.shift;
  }

  get(key: number): number {
    const i = this.slotOf(key);
    return i < 0 ? -1 : this.m[this.offset + 2 * i + 1]!;
  }

  /** The slot holding `key`, or -1. */
  private slotOf(key: number): number {
    const m = this.m;
    for (let i = this.home(key), n = 0; n < this.slots; i = (i + 1) & (this.slots - 1), n++) {
      const k = m[this.offset + 2 * i]!;
      if (k === EMPTY) return -1;
      if (k === key) return i;
    }
    return -1;
  }

  /** Insert a key that is not present; throws when it is, or when the table is full. */
  insert(key: number, pfn: number): void {
    if (this.insertIfAbsent(key, pfn) >= 0) throw new Error(`page table key ${key} is already present`);
  }

  /** Remove a key; returns its pfn, or -1. Later entries of the probe run shift back into the hole. */
  remove(key: number): number {
    const m = this.m;
    const o = this.offset;
    const mask = this.slots - 1;
    let hole = -1;
    for (let i = this.home(key), n = 0; n < this.slots; i = (i + 1) & mask, n++) {
      const k = m[o + 2 * i]!;
      if (k === EMPTY) return -1;
      if (k === key) {
        hole = i;
        break;
      }
    }
    if (hole < 0) return -1;
    const pfn = m[o + 2 * hole + 1]!;
    this.relink(hole, key, -1);
    for (let j = (hole + 1) & mask; m[o + 2 * j] !== EMPTY; j = (j + 1) & mask) {
      const kj = m[o + 2 * j]!;
      const h = this.home(kj);
      // The entry at j may stay if its home lies cyclically in (hole, j]; otherwise it moves into the hole.
      const stays = hole <= j ? hole < h && h <= j : hole < h || h <= j;
      if (!stays) {
        m[o + 2 * hole] = kj;
        m[o + 2 * hole + 1] = m[o + 2 * j + 1]!;
        this.relink(j, kj, hole);
        hole = j;
      }
    }
    m[o + 2 * hole] = EMPTY;
    return pfn;
  }

  /** The regions (PGD entries) that [start, end) overlaps: [first, last]. */
  private regions(start: number, end: number): [number, number] {
    const first = Math.max(0, Math.floor(start / 2 ** REGION_SHIFT));
    return [first, Math.min(PGD_ENTRIES - 1, Math.floor((end - 1) / 2 ** REGION_SHIFT))];
  }

  /** The slots of every entry wholly inside [start, end), into the reused `found` (its length is the count): by
   * looking up each key the range could hold when that is cheaper than walking its regions' lists. */
  private slotsWithin(start: number, end: number): number[] {
    const m = this.m;
    const found = this.found;
    if (found.length > 0) found.length = 0;
    const [first, last] = this.regions(start, end);
    let population = 0;
    for (let r = first; r <= last; r++) population += m[this.counts + r]!;
    if (end > start && ((end - start) / SPAN[LEVEL_PAGE]!) * LOOKUP_STEPS < population) {
      for (let level = LEVEL_PUD; level <= LEVEL_PAGE; level++) {
        const span = SPAN[level]!;
        const base = level * KEY_LEVEL;
        for (let i = Math.ceil(start / span), to = Math.floor(end / span); i < to; i++) {
          const s = this.slotOf(base + i);
          if (s >= 0) found.push(s);
        }
      }
      this.inKeyOrder = true;
      return found;
    }
    this.inKeyOrder = false;
    for (let r = first; r <= last; r++) {
      for (let s = m[this.heads + r]!; s !== 0; s = m[this.links + 2 * (s - 1)]!) {
        const k = m[this.offset + 2 * (s - 1)]!;
        const a = keyAddress(k);
        if (a >= start && a + SPAN[keyLevel(k)]! <= end) found.push(s - 1);
      }
    }
    return found;
  }

  /** How many entries within(start, end) would return, without building them. */
  countWithin(start: number, end: number): number {
    return this.slotsWithin(start, end).length;
  }

  /** How many of those are page tables (PUD, PMD, PTE), not data pages. */
  countTablesWithin(start: number, end: number): number {
    const m = this.m;
    let n = 0;
    for (const i of this.slotsWithin(start, end)) if (keyLevel(m[this.offset + 2 * i]!) !== LEVEL_PAGE) n++;
    return n;
  }

  /** Every entry whose address lies in [start, end), at any level whose coverage lies wholly inside it, by key. */
  within(start: number, end: number): Array<{ key: number; pfn: number }> {
    const m = this.m;
    const entries = this.slotsWithin(start, end).map((i) => ({
      key: m[this.offset + 2 * i]!,
      pfn: m[this.offset + 2 * i + 1]!,
    }));
    return this.inKeyOrder ? entries : entries.sort((x, y) => x.key - y.key);
  }

  /** The keys within(start, end) would give, in key order, as a typed array (no record per entry: munmap's
   * commit removes each, and remove() gives its pfn). */
  keysWithin(start: number, end: number): Float64Array {
    const m = this.m;
    const slots = this.slotsWithin(start, end);
    const keys = new Float64Array(slots.length);
    for (let i = 0; i < slots.length; i++) keys[i] = m[this.offset + 2 * slots[i]!]!;
    return this.inKeyOrder ? keys : keys.sort();
  }

  /** Insert `key` unless present: -1 when it was inserted, else the pfn already there (one probe for both). */
  insertIfAbsent(key: number, pfn: number): number {
    const m = this.m;
    for (let i = this.home(key), n = 0; n < this.slots; i = (i + 1) & (this.slots - 1), n++) {
      const k = m[this.offset + 2 * i]!;
      if (k === key) return m[this.offset + 2 * i + 1]!;
      if (k === EMPTY) {
        m[this.offset + 2 * i] = key;
        m[this.offset + 2 * i + 1] = pfn;
        this.link(i, key);
        return -1;
      }
    }
    throw new Error(`page table hash full (${this.slots} entries); raise the mm module's tableSlots`);
  }

  /** The pfns of the page tables (not data pages) of the whole address space, by key. */
  allTablePfns(): number[] {
    const m = this.m;
    const tables: Array<{ key: number; pfn: number }> = [];
    for (const i of this.slotsWithin(0, 2 ** VA_BITS)) {
      const key = m[this.offset + 2 * i]!;
      if (keyLevel(key) !== LEVEL_PAGE) tables.push({ key, pfn: m[this.offset + 2 * i + 1]! });
    }
    return tables.sort((x, y) => x.key - y.key).map((t) => t.pfn);
  }

  /** Remove every entry at once (exit_mmap): the table is as if each had been removed. */
  clear(): void {
    this.m.fill(0, this.offset, this.offset + pageTableWords(this.slots));
  }
}
