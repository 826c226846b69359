/**
 * The expert each client conversation (x-session-id) was sent to: a bounded table whose entries
 * expire after `ttlMs` without a request, the least recently used dropped first when it is full.
 * State of one gateway process; conversations without the header are kept with their expert by
 * the stateless rule (classify.fields: first_user), which holds across processes.
 */
export class SessionTable {
  /** Session id -> expert name and expiry time, in least-recently-used order. */
  private readonly entries = new Map<string, { expert: string; expires: number }>();

  constructor(private ttlMs: number, private maxEntries: number, private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.entries.size;
  }

  /** New limits (a reloaded config); excess entries are dropped at once. */
  configure(ttlMs: number, maxEntries: number): void {
    this.ttlMs = ttlMs;
    this.maxEntries = maxEntries;
    this.trim();
  }

  /** The expert of the session, refreshing its expiry; undefined when unknown or expired. */
  get(session: string): string | undefined {
    const entry = this.entries.get(session);
    if (!entry) return undefined;
    this.entries.delete(session);
    const now = this.now();
    if (entry.expires <= now) return undefined;
    entry.expires = now + this.ttlMs;
    this.entries.set(session, entry);
    return entry.expert;
  }

  set(session: string, expert: string): void {
    if (this.maxEntries === 0) return;
    this.entries.delete(session);
    this.entries.set(session, { expert, expires: this.now() + this.ttlMs });
    this.trim();
  }

  private trim(): void {
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(key);
    }
  }
}
