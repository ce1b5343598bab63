import type { AgentOp } from '../context.js';

export const powerOps: Record<string, AgentOp> = {};
