// Loaded with --require into a measured process: writes its peak RSS (KB) to $IDMERGE_PEAK_RSS_FILE
// and, when $IDMERGE_CPU_FILE is set, its CPU time (user + system of all its threads, µs) there, at exit.
const { writeFileSync } = require('node:fs');
process.on('exit', () => {
  const usage = process.resourceUsage();
  if (process.env.IDMERGE_PEAK_RSS_FILE)
    writeFileSync(process.env.IDMERGE_PEAK_RSS_FILE, String(usage.maxRSS));
  if (process.env.IDMERGE_CPU_FILE)
    writeFileSync(process.env.IDMERGE_CPU_FILE, String(usage.userCPUTime + usage.systemCPUTime));
});
