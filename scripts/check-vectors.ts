/**
 * The drift check of the project's conformance cases (shared/test/fixtures/vectors). An upstream
 * copy of the cases may sit beside the checkout (../shared/vectors); when it does, the check fails
 * if that copy holds a case the fixtures lack or hold differently. Without one (a user's clone) it
 * says where it looked and passes. Extra fixtures of the project's own are always allowed.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vectorDrift } from './vector-drift.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const upstream = join(root, '..', 'shared', 'vectors');
const fixtures = join(root, 'shared', 'test', 'fixtures', 'vectors');

if (!existsSync(upstream)) {
  console.log(`check:vectors: skipped, no upstream copy of the conformance cases at ${upstream}`);
} else {
  const { missing, different } = vectorDrift(upstream, fixtures);
  if (missing.length + different.length === 0) {
    console.log('check:vectors: the fixtures hold every case of the upstream copy');
  } else {
    for (const name of missing) console.error(`check:vectors: missing from the fixtures: ${name}`);
    for (const name of different) console.error(`check:vectors: differs from the upstream copy: ${name}`);
    console.error(`check:vectors: copy ${upstream} into ${fixtures} and run the tests`);
    process.exitCode = 1;
  }
}
