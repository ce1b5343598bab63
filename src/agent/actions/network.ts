import type { AgentOp } from '../context.js';

export const networkOps: Record<string, AgentOp> = {};
