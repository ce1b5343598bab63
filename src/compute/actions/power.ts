import type { PolicyDefault } from '../../policy/types.js';
import type { ActionDef } from './types.js';

export const powerPolicies: PolicyDefault[] = [];
export const powerActions: ActionDef[] = [];
