import type { Logger } from 'pino';
import type { Bus, Handler } from './types.js';

/** The in-process bus: messages are copied (as they would be on the wire) and delivered asynchronously. */
export class InProcessBus implements Bus {
  private readonly handlers = new Map<string, Handler>();
  private readonly inflight = new Set<Promise<unknown>>();
  private closed = false;
  constructor(private readonly log?: Logger) {}

  serve(topic: string, handler: Handler): void {
    if (this.handlers.has(topic)) throw new Error(`topic ${topic} already served`);
    this.handlers.set(topic, handler);
  }

  private handlerFor(topic: string): Handler {
    const h = this.handlers.get(topic);
    if (!h) throw new Error(`no endpoint serves topic ${topic}`);
    return h;
  }

  async call(topic: string, method: string, args: Record<string, unknown>): Promise<unknown> {
    const h = this.handlerFor(topic);
    const copy = structuredClone(args);
    await Promise.resolve();
    return structuredClone(await h(method, copy, 'call'));
  }

  cast(topic: string, method: string, args: Record<string, unknown>): void {
    if (this.closed) return;
    const h = this.handlerFor(topic);
    const copy = structuredClone(args);
    const p: Promise<unknown> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => h(method, copy, 'cast'))
      .catch((err: unknown) => {
        this.log?.error({ err, topic, method }, 'cast handler failed');
      })
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  /** Casts queued or running. */
  get pending(): number {
    return this.inflight.size;
  }

  async drain(): Promise<void> {
    while (this.inflight.size > 0) {
      await Promise.all([...this.inflight]);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.drain();
  }
}
