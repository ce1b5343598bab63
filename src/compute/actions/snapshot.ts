import type { PolicyDefault } from '../../policy/types.js';
import type { ActionDef } from './types.js';

export const snapshotPolicies: PolicyDefault[] = [];
export const snapshotActions: ActionDef[] = [];
