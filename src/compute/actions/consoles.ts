import type { PolicyDefault } from '../../policy/types.js';
import type { ActionDef } from './types.js';

export const consolesPolicies: PolicyDefault[] = [];
export const consolesActions: ActionDef[] = [];
