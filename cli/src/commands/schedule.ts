import type { Command } from 'commander';
import { wholeNumber } from '../options.js';
import type { ScheduleOptions } from '../jobs/schedule-runner.js';

export function register(program: Command): void {
  program
    .command('schedule')
    .description(
      'Run sync definitions on their cron schedules (the `schedule` key), logging each run as a JSON line. ' +
        'A failed run is logged and the next one still happens; a run still busy when its next time comes is skipped.',
    )
    .requiredOption('--config <files...>', 'sync definitions (YAML), each with a schedule')
    .option('--run-now', 'also run each definition once at start')
    .option('--max-runs <n>', 'stop after each definition has run n times', wholeNumber('--max-runs', 1))
    .action(async (options: ScheduleOptions) => {
      // Loaded only for this command: croner, pino and the warehouse drivers.
      const { runSchedule } = await import('../jobs/schedule-runner.js');
      await runSchedule(options);
    });
}
