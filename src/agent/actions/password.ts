import type { AgentOp } from '../context.js';

export const passwordOps: Record<string, AgentOp> = {};
