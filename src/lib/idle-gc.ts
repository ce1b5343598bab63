import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface IdleGc {
  /** Notes activity (a request was answered). */
  touch(): void;
  stop(): void;
}

/**
 * Gives memory back once the service goes quiet: after a burst of requests
 * V8 keeps the heap it grew, and its own memory reducer does not reliably
 * run in a process with periodic timers. When no request has been answered
 * for `idleMs` after some were, one full collection runs, which returns the
 * freed heap to the system. Costs one GC per busy period.
 */
export function startIdleGc(idleMs = 5_000, checkMs = 1_000): IdleGc {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as unknown;
  let last = 0;
  let busy = false;
  const timer = setInterval(() => {
    if (!busy || Date.now() - last < idleMs) return;
    busy = false;
    if (typeof gc === 'function') (gc as () => void)();
  }, checkMs);
  timer.unref();
  return {
    touch: () => {
      last = Date.now();
      busy = true;
    },
    stop: () => clearInterval(timer),
  };
}
