import type { PolicyDefault } from '../../policy/types.js';
import type { ActionDef } from './types.js';

export const rescuePolicies: PolicyDefault[] = [];
export const rescueActions: ActionDef[] = [];
