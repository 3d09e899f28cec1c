// steps: the numbered steps of an allocation attempt, shared by the zone (which checks one) and the zonelist walk.
import type { AllocStep } from '@faultline/gfp';

export const STEP_FAST = 0;
export const STEP_SLOW = 1;
export const STEP_EMERGENCY = 2;
export const STEP_NAMES: readonly AllocStep[] = ['fast', 'slow', 'emergency'];

/** A step that needs the zone lock while the view defers shared work (Zone.deferShared). */
export const ZONE_DEFERRED = -3;
