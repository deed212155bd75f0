#!/usr/bin/env -S npx tsx
import { Command } from 'commander';
import { registerCommands } from './commands/index.js';

const program = new Command('idmerge')
  .description('Get Mixpanel ID Merge right: preview, map and deliver identity-correct data.')
  .showHelpAfterError()
  .configureHelp({ sortSubcommands: true });

registerCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(`idmerge: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
