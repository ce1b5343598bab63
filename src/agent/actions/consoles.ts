import type { AgentOp } from '../context.js';

export const consolesOps: Record<string, AgentOp> = {};
