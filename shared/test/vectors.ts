import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { clusterSchema } from './cluster-schema.js';

/** The project's conformance cases, its own fixtures (their format: fixtures/vectors/README.md). */
export const VECTORS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'vectors');

const expectedEventSchema = z.union([
  z.object({
    ingested_distinct_id: z.string(),
    distinct_id: z.string(),
    failure_reason: z.string().optional(),
  }),
  z.object({ rejected: z.string() }),
]);

export const vectorCaseSchema = z.object({
  name: z.string(),
  mode: z.enum(['simplified', 'original']),
  events: z.array(z.unknown()),
  expect: z.object({ events: z.array(expectedEventSchema), clusters: z.array(clusterSchema) }),
});

export type VectorCase = z.infer<typeof vectorCaseSchema> & { file: string };

function listCaseFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory()
        ? listCaseFiles(join(dir, entry.name))
        : entry.name.endsWith('.json')
          ? [join(dir, entry.name)]
          : [],
    )
    .sort();
}

/** Every case in the fixture folder; new files are picked up without touching any test. */
export function loadVectorCases(dir: string = VECTORS_DIR): VectorCase[] {
  return listCaseFiles(dir).map((file) => {
    const parsed = vectorCaseSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success)
      throw new Error(`${relative(dir, file)}: not a conformance case: ${parsed.error.message}`);
    return { ...parsed.data, file: relative(dir, file) };
  });
}
