import type { AgentOp } from '../context.js';

export const snapshotOps: Record<string, AgentOp> = {};
