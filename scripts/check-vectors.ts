/**
 * Fails when the steering repository's conformance cases (../shared/vectors beside this checkout)
 * hold a case that the project's fixtures (shared/test/fixtures/vectors) lack or hold differently.
 * A user's clone has no ../shared: then the check says so and passes.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vectorDrift } from './vector-drift.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const steering = join(root, '..', 'shared', 'vectors');
const fixtures = join(root, 'shared', 'test', 'fixtures', 'vectors');

if (!existsSync(steering)) {
  console.log(`check:vectors: skipped, no steering copy at ${steering}`);
} else {
  const { missing, different } = vectorDrift(steering, fixtures);
  if (missing.length + different.length === 0) {
    console.log('check:vectors: the fixtures hold every conformance case');
  } else {
    for (const name of missing) console.error(`check:vectors: missing from the fixtures: ${name}`);
    for (const name of different) console.error(`check:vectors: differs from the steering copy: ${name}`);
    console.error(`check:vectors: copy ${steering} into ${fixtures} and run the tests`);
    process.exitCode = 1;
  }
}
