/**
 * How components talk: the API, the conductor/scheduler and each compute host
 * are endpoints on a bus. In-process now; AMQP (oslo.messaging style topics)
 * when hosts move to other processes. Messages are JSON-serialisable.
 */
/** Serves a topic's messages; `mode` says whether the sender waits for the answer (call) or not (cast). */
export type Handler = (method: string, args: Record<string, unknown>, mode?: 'call' | 'cast') => Promise<unknown>;

export interface Bus {
  /** Subscribes `handler` to `topic` (e.g. `compute.compute1`, `conductor`). */
  serve(topic: string, handler: Handler): void;
  /** Request/response: resolves with the handler's result, rejects with its error. */
  call(topic: string, method: string, args: Record<string, unknown>): Promise<unknown>;
  /** Fire and forget: returns once the message is queued. */
  cast(topic: string, method: string, args: Record<string, unknown>): void;
  /** Resolves when every cast queued so far (and any they caused) has been handled. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/**
 * What a caller of `call` gets when the endpoint does not answer (a compute
 * host that is down): oslo.messaging's MessagingTimeout. Recognised by its
 * name, which is what survives a wire.
 */
export class MessagingTimeout extends Error {
  constructor(topic: string, method: string) {
    super(`Timed out waiting for a reply to ${method} on ${topic}`);
    this.name = 'MessagingTimeout';
  }
}

export const isMessagingTimeout = (err: unknown): boolean => err instanceof Error && err.name === 'MessagingTimeout';
