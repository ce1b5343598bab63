import type { PolicyDefault } from '../../policy/types.js';
import type { ActionDef } from './types.js';

export const rebuildPolicies: PolicyDefault[] = [];
export const rebuildActions: ActionDef[] = [];
