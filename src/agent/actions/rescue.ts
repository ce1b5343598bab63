import type { AgentOp } from '../context.js';

export const rescueOps: Record<string, AgentOp> = {};
