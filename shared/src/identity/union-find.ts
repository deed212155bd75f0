import { GrowableInt32 } from './growable.js';

/**
 * Disjoint sets over dense integer IDs: union by size, path halving. Each set carries a
 * canonical member and a flags word, both kept on the root.
 */
export class UnionFind {
  private readonly parent = new GrowableInt32(1024, -1);
  private readonly sizes = new GrowableInt32(1024, 1);
  private readonly canonicals = new GrowableInt32(1024, -1);
  private readonly flagWords = new GrowableInt32(1024, 0);
  private roots = 0;
  private members = 0;

  /** Registers `id` as a set of its own (once; later calls do nothing). */
  add(id: number): void {
    if (this.parent.get(id) !== -1) return;
    this.parent.set(id, id);
    this.sizes.set(id, 1);
    this.canonicals.set(id, id);
    this.roots++;
    this.members++;
  }

  has(id: number): boolean {
    return this.parent.get(id) !== -1;
  }

  /** How many IDs have been added. */
  get memberCount(): number {
    return this.members;
  }

  get setCount(): number {
    return this.roots;
  }

  find(id: number): number {
    let node = id;
    let parent = this.parent.get(node);
    while (parent !== node) {
      const grand = this.parent.get(parent);
      this.parent.set(node, grand);
      node = grand;
      parent = this.parent.get(node);
    }
    return node;
  }

  sizeOf(id: number): number {
    return this.sizes.get(this.find(id));
  }

  canonicalOf(id: number): number {
    return this.canonicals.get(this.find(id));
  }

  flags(id: number): number {
    return this.flagWords.get(this.find(id));
  }

  setFlags(id: number, flags: number): void {
    const root = this.find(id);
    this.flagWords.set(root, this.flagWords.get(root) | flags);
  }

  /** Joins the sets of `a` and `b`; the joined set keeps `canonicalFrom`'s canonical member. */
  union(a: number, b: number, canonicalFrom: number): void {
    let rootA = this.find(a);
    let rootB = this.find(b);
    if (rootA === rootB) return;
    const canonical = this.canonicals.get(this.find(canonicalFrom));
    const flags = this.flagWords.get(rootA) | this.flagWords.get(rootB);
    if (this.sizes.get(rootA) < this.sizes.get(rootB)) [rootA, rootB] = [rootB, rootA];
    this.parent.set(rootB, rootA);
    this.sizes.set(rootA, this.sizes.get(rootA) + this.sizes.get(rootB));
    this.canonicals.set(rootA, canonical);
    this.flagWords.set(rootA, flags);
    this.roots--;
  }
}
