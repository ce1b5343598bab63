import type { PolicyDefault } from '../../policy/types.js';
import type { ActionDef } from './types.js';

export const shelvePolicies: PolicyDefault[] = [];
export const shelveActions: ActionDef[] = [];
