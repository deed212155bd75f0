#!/usr/bin/env node
// The `idmerge` program as users run it: the compiled build in cli/dist, rebuilt first when a
// source is newer than it (a checkout that was just edited or pulled), so it never runs stale code.
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { buildCli, currentEntry, isBuildCurrent } from '../../scripts/build-cli.mjs';

// What the program's main.ts does through stopYoungGenerationGrowth (shared/src/memory), done here
// before the program's modules load, so the young generation stays at V8's starting size (loading
// them can grow it to 2 × 4 MB first).
setFlagsFromString('--semi-space-growth-factor=1');

const entry = (isBuildCurrent() && currentEntry()) || (await buildCli());
// The build this process runs: its worker threads start this same file, never a newer build that a
// rebuild (e.g. during a long `idmerge schedule`) may have written since.
globalThis[Symbol.for('idmerge.entry')] = entry;
await import(pathToFileURL(entry).href);
