/**
 * Faults the sandbox injects, with a probability per request each: answers a real Mixpanel gives
 * (rate limit, server errors, refusals), a connection reset before anything is read, a reply slower
 * than the client's timeout, and `lost`: the request is ingested and then the connection drops
 * before the answer, so the client cannot tell it arrived (only deterministic `$insert_id`s make
 * its retry harmless). New kinds go at the end: the order decides which fault a seeded roll picks.
 */
export const FAULT_KINDS = [
  '429',
  '500',
  '503',
  'reset',
  'slow',
  '400',
  '401',
  '403',
  '413',
  'lost',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
export type FaultSpec = Partial<Record<FaultKind, number>>;

/** Parses `429=0.1,500=0.05,503=0.02,reset=0.02,slow=0.01`; errors say which part is wrong. */
export function parseFaultSpec(text: string): FaultSpec {
  const spec: FaultSpec = {};
  let total = 0;
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [kind, value, extra] = part.split('=');
    if (!FAULT_KINDS.includes(kind as FaultKind) || value === undefined || extra !== undefined) {
      throw new Error(
        `--faults: "${part}" is not KIND=PROBABILITY with KIND one of ${FAULT_KINDS.join(', ')}`,
      );
    }
    const probability = Number(value);
    if (!(probability >= 0 && probability <= 1))
      throw new Error(`--faults: the probability in "${part}" must be between 0 and 1`);
    spec[kind as FaultKind] = probability;
    total += probability;
  }
  if (total > 1) throw new Error(`--faults: the probabilities add up to ${total}, more than 1`);
  return spec;
}

/** mulberry32: a small seeded PRNG, so a seed always gives the same fault sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Decides, request by request, whether and which fault to inject. */
export function faultPicker(spec: FaultSpec, random: () => number): () => FaultKind | undefined {
  return () => {
    const roll = random();
    let edge = 0;
    for (const kind of FAULT_KINDS) {
      edge += spec[kind] ?? 0;
      if (roll < edge) return kind;
    }
    return undefined;
  };
}
