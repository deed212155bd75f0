import type { Command } from 'commander';
import { register as collect } from './collect.js';
import { register as importCommand } from './import.js';
import { register as preview } from './preview.js';
import { register as resolve } from './resolve.js';
import { register as sandbox } from './sandbox.js';
import { register as schedule } from './schedule.js';
import { register as sync } from './sync.js';

/**
 * Every idmerge command lives in its own module under this folder and exports a `register`
 * function; this list is the only place that knows them all.
 */
const registrations: Array<(program: Command) => void> = [
  resolve,
  importCommand,
  sandbox,
  sync,
  schedule,
  preview,
  collect,
];

export function registerCommands(program: Command): void {
  for (const register of registrations) register(program);
}
