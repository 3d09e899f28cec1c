// page-state: one Int32 word per page frame that says where the page is. Only heads of blocks carry an order.
//   bits 0-2  kind: TAIL (inside a block, not its first page), BUDDY (first page of a free block), PCP (an order-0
//             page on a CPU's list), ALLOCATED (first page of an allocated block)
//   bits 3-6  order of the block (heads only)
//   bits 8-23 CPU number (PCP pages only)

export const PAGE_TAIL = 0;
export const PAGE_BUDDY = 1;
export const PAGE_PCP = 2;
export const PAGE_ALLOCATED = 3;
export const PAGE_KIND_MASK = 0x7;
export const PAGE_ORDER_SHIFT = 3;
export const PAGE_ORDER_MASK = 0xf;
export const PAGE_CPU_SHIFT = 8;
export const PAGE_CPU_MASK = 0xffff;

export const PAGE_KIND_NAMES = ['tail', 'buddy', 'pcp', 'allocated'] as const;

export function pageWord(kind: number, order: number, cpu = 0): number {
  return kind | (order << PAGE_ORDER_SHIFT) | (cpu << PAGE_CPU_SHIFT);
}
export function pageKind(word: number): number {
  return word & PAGE_KIND_MASK;
}
export function pageOrder(word: number): number {
  return (word >> PAGE_ORDER_SHIFT) & PAGE_ORDER_MASK;
}
export function pageCpu(word: number): number {
  return (word >> PAGE_CPU_SHIFT) & PAGE_CPU_MASK;
}
