import type { AgentOp } from '../context.js';

export const shelveOps: Record<string, AgentOp> = {};
