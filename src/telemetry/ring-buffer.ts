/** A fixed-capacity buffer that keeps the newest items: memory stays flat at any event rate. */
export class RingBuffer<T> {
  private readonly items: (T | undefined)[];
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity <= 0) throw new RangeError('capacity must be a positive integer');
    this.items = new Array<T | undefined>(capacity);
  }

  push(item: T): void {
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  get size(): number {
    return this.count;
  }

  /** Up to `limit` items, newest first. */
  newest(limit = this.count): T[] {
    const out: T[] = [];
    const n = Math.min(limit, this.count);
    for (let i = 1; i <= n; i++) out.push(this.items[(this.next - i + this.capacity) % this.capacity]!);
    return out;
  }

  /** All items, oldest first. */
  toArray(): T[] {
    return this.newest().reverse();
  }
}
