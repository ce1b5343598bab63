import type { PolicyDefault } from '../../policy/types.js';
import type { ActionDef } from './types.js';

export const securityGroupsPolicies: PolicyDefault[] = [];
export const securityGroupsActions: ActionDef[] = [];
