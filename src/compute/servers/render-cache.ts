/**
 * Rendered server bodies (JSON text) keyed by server and view variant
 * (microversion, what the caller may see, link base), each stored with the
 * server's `rev` when it was rendered. Every write to a server bumps its rev
 * (src/compute/servers/repo.ts), so an entry whose rev differs is stale and
 * is replaced by the next render: one entry per server and variant at most.
 */
export class RenderCache {
  private readonly map = new Map<string, { rev: number; json: string }>();
  private readonly variants = new Map<string, number>();
  constructor(private readonly maxEntries = 20_000) {}

  /** A short number for a long view-variant description, so cache keys stay short. */
  variantId(description: string): number {
    let id = this.variants.get(description);
    if (id === undefined) {
      id = this.variants.size;
      this.variants.set(description, id);
    }
    return id;
  }

  get(key: string, rev: number): string | undefined {
    const e = this.map.get(key);
    return e !== undefined && e.rev === rev ? e.json : undefined;
  }

  set(key: string, rev: number, json: string): void {
    if (this.map.delete(key)) {
      this.map.set(key, { rev, json });
      return;
    }
    if (this.map.size >= this.maxEntries) {
      // Drop the oldest tenth (Map iterates in insertion order).
      let n = Math.ceil(this.maxEntries / 10);
      for (const k of this.map.keys()) {
        this.map.delete(k);
        if (--n <= 0) break;
      }
    }
    this.map.set(key, { rev, json });
  }

  get size(): number {
    return this.map.size;
  }
}
