import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

function parsedOrText(file: string): string {
  const text = readFileSync(file, 'utf8');
  if (!file.endsWith('.json')) return text;
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return text;
  }
}

/**
 * Files of an upstream copy of the conformance cases that the project's fixtures lack or hold with
 * other content (JSON compared by value). Extra fixture files are allowed.
 */
export function vectorDrift(
  upstreamDir: string,
  fixturesDir: string,
): { missing: string[]; different: string[] } {
  const missing: string[] = [];
  const different: string[] = [];
  for (const file of listFiles(upstreamDir).sort()) {
    const name = relative(upstreamDir, file);
    const copy = join(fixturesDir, name);
    if (!existsSync(copy)) missing.push(name);
    else if (parsedOrText(copy) !== parsedOrText(file)) different.push(name);
  }
  return { missing, different };
}
