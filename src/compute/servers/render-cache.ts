/**
 * Rendered server bodies (JSON text) keyed by server, revision and the view
 * variant (microversion, what the caller may see, link base). Every write to
 * a server bumps its `rev` (src/compute/servers/repo.ts), so an entry can
 * never be stale; old entries simply stop being asked for and age out.
 */
export class RenderCache {
  private readonly map = new Map<string, string>();
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

  get(key: string): string | undefined {
    return this.map.get(key);
  }

  set(key: string, json: string): void {
    if (this.map.size >= this.maxEntries) {
      // Drop the oldest tenth (Map iterates in insertion order).
      let n = Math.ceil(this.maxEntries / 10);
      for (const k of this.map.keys()) {
        this.map.delete(k);
        if (--n <= 0) break;
      }
    }
    this.map.set(key, json);
  }

  get size(): number {
    return this.map.size;
  }
}
