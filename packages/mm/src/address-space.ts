// address-space: one process's address space in shared memory - its sequence count, its VMAs and its page tables -
// read by every CPU during a window and changed only by the commit.
import {
  MM_SEQ,
  MM_VMA_GEN,
  MM_VMAS,
  MM_WRITER,
  VMA_END,
  VMA_F64,
  VMA_FLAGS,
  VMA_GEN,
  VMA_START,
  VMA_WRITE_LOCKED,
  mmBase,
  tableBase,
  vmaBase,
  type MmLayout,
} from './layout.js';
import { PageTableHash } from './page-table.js';

export class AddressSpace {
  readonly tables: PageTableHash;
  private readonly head: number;
  private readonly vmas: number;

  constructor(
    private readonly m: Float64Array,
    private readonly L: MmLayout,
    readonly id: number,
  ) {
    this.head = mmBase(L, id);
    this.vmas = vmaBase(L, id);
    this.tables = new PageTableHash(m, tableBase(L, id), L.tableSlots);
  }

  get seq(): number {
    return this.m[this.head + MM_SEQ]!;
  }

  bumpSeq(): void {
    this.m[this.head + MM_SEQ]!++;
  }

  get writer(): boolean {
    return this.m[this.head + MM_WRITER] === 1;
  }

  set writer(on: boolean) {
    this.m[this.head + MM_WRITER] = on ? 1 : 0;
  }

  /** The VMA holding `address` as [start, end), or null. */
  vmaOf(address: number): [number, number] | null {
    const s = this.slotOf(address);
    return s < 0 ? null : [this.m[s + VMA_START]!, this.m[s + VMA_END]!];
  }

  /** The flags (VMA_FILE) of the VMA holding `address`; 0 when there is none. */
  vmaFlags(address: number): number {
    const s = this.slotOf(address);
    return s < 0 ? 0 : this.m[s + VMA_FLAGS]!;
  }

  /** The generation of the VMA holding `address`, or -1. */
  vmaGen(address: number): number {
    const s = this.slotOf(address);
    return s < 0 ? -1 : this.m[s + VMA_GEN]!;
  }

  /** The slot (0 .. vmaSlots - 1) of the VMA holding `address`, or -1: which vm_lock line is its. */
  vmaSlot(address: number): number {
    const s = this.slotOf(address);
    return s < 0 ? -1 : (s - this.vmas) / VMA_F64;
  }

  /** Whether the VMA of generation `gen` is still mapped. */
  hasVmaGen(gen: number): boolean {
    const m = this.m;
    for (let i = 0; i < this.L.vmaSlots; i++) {
      const s = this.vmas + i * VMA_F64;
      if (m[s + VMA_END] !== 0 && m[s + VMA_GEN] === gen) return true;
    }
    return false;
  }

  /** Set `flag` on the VMA holding `address`, if there is one. */
  setFlag(address: number, flag: number): void {
    const s = this.slotOf(address);
    if (s >= 0) this.m[s + VMA_FLAGS] = this.m[s + VMA_FLAGS]! | flag;
  }

  /** vma_start_write on every VMA overlapping [start, end). */
  writeLock(start: number, end: number): void {
    const m = this.m;
    for (let i = 0; i < this.L.vmaSlots; i++) {
      const s = this.vmas + i * VMA_F64;
      const e = m[s + VMA_END]!;
      if (e !== 0 && start < e && end > m[s + VMA_START]!) m[s + VMA_FLAGS] = m[s + VMA_FLAGS]! | VMA_WRITE_LOCKED;
    }
  }

  /** vma_end_write_all: mmap_write_unlock releases every VMA's write lock at once. */
  writeUnlockAll(): void {
    const m = this.m;
    for (let i = 0; i < this.L.vmaSlots; i++) {
      const s = this.vmas + i * VMA_F64;
      m[s + VMA_FLAGS] = m[s + VMA_FLAGS]! & ~VMA_WRITE_LOCKED;
    }
  }

  private slotOf(address: number): number {
    const m = this.m;
    for (let i = 0; i < this.L.vmaSlots; i++) {
      const s = this.vmas + i * VMA_F64;
      const end = m[s + VMA_END]!;
      if (end !== 0 && address >= m[s + VMA_START]! && address < end) return s;
    }
    return -1;
  }

  /** Map [start, end) with `flags`; false if it overlaps a VMA or no slot is free. */
  map(start: number, end: number, flags = 0): boolean {
    const m = this.m;
    let free = -1;
    for (let i = 0; i < this.L.vmaSlots; i++) {
      const s = this.vmas + i * VMA_F64;
      const e = m[s + VMA_END]!;
      if (e === 0) {
        if (free < 0) free = s;
      } else if (start < e && end > m[s + VMA_START]!) return false;
    }
    if (free < 0) return false;
    m[free + VMA_START] = start;
    m[free + VMA_END] = end;
    m[free + VMA_FLAGS] = flags;
    m[free + VMA_GEN] = ++m[this.head + MM_VMA_GEN]!;
    m[this.head + MM_VMAS]!++;
    return true;
  }

  /** Unmap exactly the VMA [start, end); false if there is none. */
  unmap(start: number, end: number): boolean {
    const m = this.m;
    for (let i = 0; i < this.L.vmaSlots; i++) {
      const s = this.vmas + i * VMA_F64;
      if (m[s + VMA_START] === start && m[s + VMA_END] === end) {
        m[s + VMA_START] = 0;
        m[s + VMA_END] = 0;
        m[this.head + MM_VMAS]!--;
        return true;
      }
    }
    return false;
  }
}
