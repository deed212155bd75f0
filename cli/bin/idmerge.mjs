#!/usr/bin/env node
// The `idmerge` program as users run it: the compiled build in cli/dist, rebuilt first when a
// source is newer than it (a checkout that was just edited or pulled), so it never runs stale code.
import { pathToFileURL } from 'node:url';
import { buildCli, currentEntry, isBuildCurrent } from '../../scripts/build-cli.mjs';

const entry = (isBuildCurrent() && currentEntry()) || (await buildCli());
await import(pathToFileURL(entry).href);
