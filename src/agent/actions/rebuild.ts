import type { AgentOp } from '../context.js';

export const rebuildOps: Record<string, AgentOp> = {};
