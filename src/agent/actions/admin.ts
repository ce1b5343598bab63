import type { AgentOp } from '../context.js';

export const adminOps: Record<string, AgentOp> = {};
