import type { PolicyDefault } from '../../policy/types.js';
import type { ActionDef } from './types.js';

export const fixedIpsPolicies: PolicyDefault[] = [];
export const fixedIpsActions: ActionDef[] = [];
