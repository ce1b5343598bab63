import type { PolicyDefault } from '../../policy/types.js';
import type { ActionDef } from './types.js';

export const lockPolicies: PolicyDefault[] = [];
export const lockActions: ActionDef[] = [];
