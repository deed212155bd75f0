/**
 * The column of a query's result that a definition key names, exactly as the warehouse reports
 * it; otherwise an error that says which key named what, and what the result has instead. When
 * the only near match differs in case, `folded` says how this warehouse spells names.
 */
export function namedColumn<C extends { name: string }>(
  all: readonly C[],
  name: string,
  where: {
    /** What the message starts with: the definition key and the name it gave. */
    prefix: string;
    /** What was read: `the query`, `source.table "events"`. */
    relation: string;
    folded?: (reported: string) => string;
  },
): C {
  const found = all.find((c) => c.name === name);
  if (found !== undefined) return found;
  const folded = all.filter((c) => c.name.toLowerCase() === name.toLowerCase());
  if (folded.length === 1 && where.folded !== undefined)
    throw new Error(`${where.prefix}${where.folded(folded[0]?.name ?? name)}`);
  throw new Error(
    `${where.prefix}${where.relation} has no such column; it has ${all.map((c) => c.name).join(', ')}`,
  );
}
