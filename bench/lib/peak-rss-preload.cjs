// Loaded with --require into a measured process: writes its peak RSS (KB) to $IDMERGE_PEAK_RSS_FILE at exit.
const { writeFileSync } = require('node:fs');
process.on('exit', () => {
  if (process.env.IDMERGE_PEAK_RSS_FILE)
    writeFileSync(process.env.IDMERGE_PEAK_RSS_FILE, String(process.resourceUsage().maxRSS));
});
