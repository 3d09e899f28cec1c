// demo-roles: who allocates in the threaded demo. Each is an accounting owner of the zone.

export interface DemoRole {
  readonly name: string;
  readonly mask: string;
  /** Relative weight of this role among allocations. */
  readonly weight: number;
}

export const DEMO_ROLES: readonly DemoRole[] = [
  { name: 'kernel work', mask: 'GFP_KERNEL', weight: 4 },
  { name: 'page tables, SPF mask', mask: 'GFP_NOWAIT|__GFP_NOMEMALLOC|__GFP_NOWARN', weight: 4 },
  { name: 'page tables, GFP_NOWAIT', mask: 'GFP_NOWAIT', weight: 2 },
  { name: 'interrupts, GFP_ATOMIC', mask: 'GFP_ATOMIC', weight: 1 },
];
