import type { PolicyDefault } from '../../policy/types.js';
import type { ActionDef } from './types.js';

export const floatingIpsPolicies: PolicyDefault[] = [];
export const floatingIpsActions: ActionDef[] = [];
