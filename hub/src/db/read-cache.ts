/**
 * Answers of hot read queries kept while the database has not changed. Each answer is tagged with the change
 * stamp read *before* its query ran, so a change that lands during or after the query makes the tag stale and
 * the next read runs the query again: an answer is never served from before a change the reader could see.
 * Only for queries whose answer depends on the stored rows alone (no clock, no randomness).
 */
export class ReadCache {
  private readonly entries = new Map<string, { stamp: string; answer: Promise<unknown> }>();
  /** Changes this process learnt of that the stamp does not see (a commit on another connection of its own). */
  private generation = 0;

  /**
   * `stamp`: a token that differs whenever any change may have reached the database since it last returned the
   * same token; undefined when it cannot tell (the query then runs, uncached).
   */
  constructor(
    private readonly stamp: () => string | undefined,
    private readonly maxEntries = 128,
  ) {}

  /** The answer of `load` for `key`, from memory when nothing changed since it was loaded. */
  read<T>(key: string, load: () => Promise<T>): Promise<T> {
    const own = this.stamp();
    if (own === undefined) return load();
    const stamp = `${this.generation}.${own}`;
    const found = this.entries.get(key);
    if (found?.stamp === stamp) {
      // Most recently used last: the oldest is the first one dropped.
      this.entries.delete(key);
      this.entries.set(key, found);
      return found.answer as Promise<T>;
    }
    // Readers arriving while the query runs share it (a change meanwhile gives later readers a new stamp).
    const answer = load();
    const entry = { stamp, answer };
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    answer.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return answer;
  }

  /** Something changed the database (e.g. the ingest writer thread committed): no kept answer is current. */
  changed(): void {
    this.generation++;
  }
}
