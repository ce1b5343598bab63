import type { PolicyDefault } from '../../policy/types.js';
import type { ActionDef } from './types.js';

export const passwordPolicies: PolicyDefault[] = [];
export const passwordActions: ActionDef[] = [];
