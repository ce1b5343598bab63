import type { ComputeDeps } from './deps.js';

export interface ComputeServices {
  stop(): Promise<void>;
}

export function startComputeServices(_deps: ComputeDeps): Promise<ComputeServices> {
  return Promise.resolve({ stop: () => Promise.resolve() });
}
