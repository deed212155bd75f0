import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCHMARKS_FILE = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'docs',
  'benchmarks.md',
);

/** Peak resident memory of this process so far, in MB. */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export function machine(): string {
  return `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB memory, Node ${process.version}`;
}

/** Appends a dated section to docs/benchmarks.md with the command that produced it. */
export function appendSection(title: string, command: string, body: string): void {
  if (!existsSync(BENCHMARKS_FILE)) {
    writeFileSync(
      BENCHMARKS_FILE,
      '# Benchmarks\n\nEvery section is appended by the command it names; run it again to add a fresh one.\n',
    );
  }
  const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
  appendFileSync(
    BENCHMARKS_FILE,
    `\n## ${title} — ${date} UTC\n\nCommand: \`${command}\`  \nMachine: ${machine()}\n\n${body.trim()}\n`,
  );
}
