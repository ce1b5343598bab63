import type { AgentOp } from '../context.js';

export const deletedOps: Record<string, AgentOp> = {};
