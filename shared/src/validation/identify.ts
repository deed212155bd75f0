/**
 * The two forms of Original ID Merge's `$identify`:
 * `{$identified_id, $anon_id}` as the API reference documents it, and
 * `{distinct_id, $anon_distinct_id}` as Mixpanel's SDKs send it. Where both are present, the
 * documented properties win. Every reader of `$identify` (validation, the identity model, renderers)
 * goes through this one function, so the forms cannot drift apart.
 */
export interface IdentifyParties {
  /** The identified side, and the property it was read from. */
  identified: unknown;
  identifiedField: 'properties.$identified_id' | 'properties.distinct_id';
  /** The anonymous side, and the property it was read from. */
  anon: unknown;
  anonField: 'properties.$anon_id' | 'properties.$anon_distinct_id';
}

function given(value: unknown): boolean {
  return value !== undefined && value !== null;
}

export function identifyParties(props: Record<string, unknown>): IdentifyParties {
  // The documented property is named (and reported) unless only the SDK form is there.
  const documentedIdentified = given(props.$identified_id) || !given(props.distinct_id);
  const documentedAnon = given(props.$anon_id) || !given(props.$anon_distinct_id);
  return {
    identified: documentedIdentified ? props.$identified_id : props.distinct_id,
    identifiedField: documentedIdentified ? 'properties.$identified_id' : 'properties.distinct_id',
    anon: documentedAnon ? props.$anon_id : props.$anon_distinct_id,
    anonField: documentedAnon ? 'properties.$anon_id' : 'properties.$anon_distinct_id',
  };
}
