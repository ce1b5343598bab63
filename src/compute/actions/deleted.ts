import type { PolicyDefault } from '../../policy/types.js';
import type { ActionDef } from './types.js';

export const deletedPolicies: PolicyDefault[] = [];
export const deletedActions: ActionDef[] = [];
