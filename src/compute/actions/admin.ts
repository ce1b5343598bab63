import type { PolicyDefault } from '../../policy/types.js';
import type { ActionDef } from './types.js';

export const adminPolicies: PolicyDefault[] = [];
export const adminActions: ActionDef[] = [];
