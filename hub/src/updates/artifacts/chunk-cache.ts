/**
 * The most recently read chunks of stored files, bounded in bytes, least recently used dropped first. Chunks
 * never change under their key (an upload id is used once), so an entry is never stale; a deleted file's
 * entries age out, and a reader finds no file before it would ask for them.
 */
export class ChunkCache {
  private readonly entries = new Map<string, Buffer>();
  private readonly loading = new Map<string, Promise<Buffer>>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /**
   * The chunk from memory, or from `fetch` once however many readers ask at the same time (a rollout's devices
   * start together: one query per chunk, not one per device).
   */
  async load(uploadId: string, seq: number, fetch: () => Promise<Buffer>): Promise<Buffer> {
    const cached = this.get(uploadId, seq);
    if (cached) return cached;
    const key = `${uploadId}:${seq}`;
    let pending = this.loading.get(key);
    if (!pending) {
      pending = fetch()
        .then((data) => {
          this.set(uploadId, seq, data);
          return data;
        })
        .finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    return pending;
  }

  get(uploadId: string, seq: number): Buffer | undefined {
    const key = `${uploadId}:${seq}`;
    const data = this.entries.get(key);
    if (data) {
      this.entries.delete(key);
      this.entries.set(key, data);
    }
    return data;
  }

  set(uploadId: string, seq: number, data: Buffer): void {
    if (data.length > this.maxBytes) return;
    const key = `${uploadId}:${seq}`;
    if (this.entries.has(key)) return;
    this.entries.set(key, data);
    this.bytes += data.length;
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= v.length;
    }
  }
}
