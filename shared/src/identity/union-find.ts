/** Words per node in UnionFind's array: parent + 1 (0 = not added), size, canonical, flags. */
const STRIDE = 4;
const PARENT = 0;
const SIZE = 1;
const CANONICAL = 2;
const FLAGS = 3;

/**
 * Disjoint sets over dense integer IDs: union by size, path halving. Each set carries a
 * canonical member and a flags word, both kept on the root.
 *
 * A node's four words sit side by side in one Int32Array (16 bytes), so touching a node costs one
 * cache miss rather than one per field: with millions of IDs that is most of the time spent here.
 */
export class UnionFind {
  private nodes = new Int32Array(1024 * STRIDE);
  private roots = 0;
  private members = 0;

  /** Registers `id` as a set of its own (once; later calls do nothing). */
  add(id: number): void {
    const at = id * STRIDE;
    if (at >= this.nodes.length) this.grow(at);
    const nodes = this.nodes;
    if (nodes[at + PARENT] !== 0) return;
    nodes[at + PARENT] = id + 1;
    nodes[at + SIZE] = 1;
    nodes[at + CANONICAL] = id;
    this.roots++;
    this.members++;
  }

  has(id: number): boolean {
    const at = id * STRIDE;
    return at < this.nodes.length && this.nodes[at + PARENT] !== 0;
  }

  /** How many IDs have been added. */
  get memberCount(): number {
    return this.members;
  }

  get setCount(): number {
    return this.roots;
  }

  /** The root of `id`'s set; `id` must have been added. */
  find(id: number): number {
    const nodes = this.nodes;
    let node = id;
    let parent = (nodes[node * STRIDE + PARENT] as number) - 1;
    while (parent !== node) {
      const grand = (nodes[parent * STRIDE + PARENT] as number) - 1;
      nodes[node * STRIDE + PARENT] = grand + 1;
      node = grand;
      parent = (nodes[node * STRIDE + PARENT] as number) - 1;
    }
    return node;
  }

  sizeOf(id: number): number {
    return this.nodes[this.find(id) * STRIDE + SIZE] as number;
  }

  canonicalOf(id: number): number {
    return this.nodes[this.find(id) * STRIDE + CANONICAL] as number;
  }

  flags(id: number): number {
    return this.nodes[this.find(id) * STRIDE + FLAGS] as number;
  }

  setFlags(id: number, flags: number): void {
    const at = this.find(id) * STRIDE + FLAGS;
    const old = this.nodes[at] as number;
    // Mostly set already: skipping the write keeps the cache line clean.
    if ((old & flags) !== flags) this.nodes[at] = old | flags;
  }

  /** Joins the sets of `a` and `b`; the joined set keeps `canonicalFrom`'s canonical member. */
  union(a: number, b: number, canonicalFrom: number): void {
    let rootA = this.find(a);
    let rootB = this.find(b);
    if (rootA === rootB) return;
    const nodes = this.nodes;
    const rootC = this.find(canonicalFrom);
    const canonical = nodes[rootC * STRIDE + CANONICAL] as number;
    const flags = (nodes[rootA * STRIDE + FLAGS] as number) | (nodes[rootB * STRIDE + FLAGS] as number);
    const sizeA = nodes[rootA * STRIDE + SIZE] as number;
    const sizeB = nodes[rootB * STRIDE + SIZE] as number;
    // Union by size; on a tie the canonical side stays the root, so later events of the canonical
    // ID (a user, say) find their root without visiting a second node.
    if (sizeA < sizeB || (sizeA === sizeB && rootC === rootB)) [rootA, rootB] = [rootB, rootA];
    const at = rootA * STRIDE;
    nodes[rootB * STRIDE + PARENT] = rootA + 1;
    nodes[at + SIZE] = (nodes[at + SIZE] as number) + (nodes[rootB * STRIDE + SIZE] as number);
    nodes[at + CANONICAL] = canonical;
    nodes[at + FLAGS] = flags;
    this.roots--;
  }

  private grow(at: number): void {
    let length = this.nodes.length * 2;
    while (length <= at) length *= 2;
    const grown = new Int32Array(length);
    grown.set(this.nodes);
    this.nodes = grown;
  }
}
