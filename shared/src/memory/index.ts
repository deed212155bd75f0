import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Called with no argument it runs a full collection (Node 20's `{ type: 'major' }` runs a minor one). */
type Collect = () => void;
let collect: Collect | undefined;

/** V8's collector, reached without starting Node with --expose-gc. */
function collector(): Collect {
  if (collect === undefined) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as Collect;
  }
  return collect;
}

/** Spaces of V8's young generation: filled and emptied by every minor collection, so not growth. */
const YOUNG_SPACES = new Set(['new_space', 'new_large_object_space']);

/**
 * Bytes in use in V8's old generation (everything but the young generation, whose use swings by
 * its whole size between minor collections). V8's statistics alone: process.memoryUsage() would
 * also read the resident size from the OS.
 */
function oldGenerationUsed(): number {
  let used = 0;
  for (const space of getHeapSpaceStatistics())
    if (!YOUNG_SPACES.has(space.space_name)) used += space.space_used_size;
  return used;
}

/** Runs a full collection now (for checks that something is no longer reachable). */
export function fullCollection(): void {
  collector()();
}

/** The default growth between collections: small next to the targets, large next to one page of rows. */
export const HEAP_GROWTH_BYTES = 32 * 1024 * 1024;

/**
 * For streaming loops whose garbage includes native memory V8 does not count (such as DuckDB
 * result chunks): a full collection whenever V8's old generation has grown by `growthBytes` since
 * the last one left it. V8 lets its old space grow lazily, by hundreds of megabytes, before its first
 * major collection, and pages it has committed stay resident after; collecting on growth keeps the
 * heap (and the native memory its garbage holds on to) within a fixed margin of what is alive, and
 * collects only as often as the garbage needs. The young generation is not counted: its use swings
 * by its whole size between minor collections, so counting it would start full collections far
 * more often than the garbage needs (docs/benchmarks.md).
 */
export function collectionOnHeapGrowth(growthBytes: number = HEAP_GROWTH_BYTES): () => void {
  let limit = oldGenerationUsed() + growthBytes;
  return () => {
    if (oldGenerationUsed() <= limit) return;
    collector()();
    limit = oldGenerationUsed() + growthBytes;
  };
}

/**
 * Holds V8's young generation at the size it has now instead of letting it grow to 2 × 16 MB under
 * load, until `resumeYoungGenerationGrowth`. For programs that stream records through one thread:
 * nearly all they allocate dies young, and what lives on (records waiting for delivery) moves to
 * old space, which `collectionOnHeapGrowth` bounds: peak memory is lower at the same speed
 * (docs/benchmarks.md). Process-wide: it holds worker threads' young generations too.
 */
export function stopYoungGenerationGrowth(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

/**
 * Lets V8's young generations grow on demand again (V8's default, doubling). For programs that start
 * a worker thread which allocates fast and keeps much alive for a while (the sync's reader, mapping
 * pages of rows): held at its starting size, such a thread promotes far more to old space and runs
 * slower (docs/benchmarks.md).
 */
export function resumeYoungGenerationGrowth(): void {
  setFlagsFromString('--semi-space-growth-factor=2');
}

/**
 * Makes V8 start a major collection once its old generation grew by `percent` % over what the last
 * one left alive, instead of its own factor (up to 4×, chosen for throughput). For servers whose
 * live heap is small next to the garbage that passes through old space: peak memory follows what
 * is alive, and V8's collections stay incremental and concurrent (unlike a forced full collection,
 * which stops everything and costs far more under load). Process-wide.
 */
export function limitOldGenerationGrowth(percent: number): void {
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}
