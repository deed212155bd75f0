/** A typed array that doubles when written past its end. */
export class GrowableInt32 {
  private data: Int32Array;

  constructor(
    initialCapacity = 1024,
    private readonly fill = 0,
  ) {
    this.data = new Int32Array(initialCapacity);
    if (fill !== 0) this.data.fill(fill);
  }

  get(index: number): number {
    return index < this.data.length ? (this.data[index] as number) : this.fill;
  }

  set(index: number, value: number): void {
    if (index >= this.data.length) {
      let capacity = this.data.length * 2;
      while (capacity <= index) capacity *= 2;
      const grown = new Int32Array(capacity);
      if (this.fill !== 0) grown.fill(this.fill, this.data.length);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[index] = value;
  }
}
