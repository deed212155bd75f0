/**
 * Interns ID strings to dense integers so the rest of the model works on typed arrays.
 * `lookup` never creates an ID (a failed identity step must leave unknown IDs unknown).
 */
export class IdTable {
  private readonly indexByName = new Map<string, number>();
  private readonly names: string[] = [];

  get size(): number {
    return this.names.length;
  }

  lookup(name: string): number | undefined {
    return this.indexByName.get(name);
  }

  /** The index of `name`, creating it when new; `created` tells which. */
  intern(name: string): number {
    let index = this.indexByName.get(name);
    if (index === undefined) {
      index = this.names.length;
      this.names.push(name);
      this.indexByName.set(name, index);
    }
    return index;
  }

  name(index: number): string {
    const name = this.names[index];
    if (name === undefined) throw new RangeError(`no ID with index ${index}`);
    return name;
  }
}
