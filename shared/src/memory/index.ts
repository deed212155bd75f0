import { setFlagsFromString } from 'node:v8';
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

/**
 * For streaming loops that hand many short-lived objects through: a full collection every `every`
 * units (records, chunks). V8 grows its old space lazily, so garbage promoted there (and native
 * memory V8 cannot see, such as DuckDB result chunks) piles up between its own major collections;
 * a regular collection keeps peak memory flat. Cheap when the live heap is small, as it is here.
 */
export function periodicCollection(every: number): (units?: number) => void {
  let since = 0;
  return (units = 1) => {
    since += units;
    if (since < every) return;
    since = 0;
    collector()();
  };
}
