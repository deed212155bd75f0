// Runs the peer tool, mixpanel-import, on one NDJSON file with the same settings as `idmerge
// import`: batches of 2000, gzip level 1, 10 concurrent requests, strict mode, US host (redirected
// to the local sink by redirect-preload.cjs). Prints its summary as one JSON line.
const mpImport = require('mixpanel-import');

async function main() {
  const file = process.argv[2];
  if (!file) throw new Error('usage: node peer-import.cjs FILE.ndjson');
  const result = await mpImport({ secret: process.env.MIXPANEL_API_SECRET }, file, {
    recordType: 'event',
    streamFormat: 'jsonl',
    region: 'US',
    recordsPerBatch: 2000,
    workers: 10,
    compress: true,
    compressionLevel: 1,
    strict: true,
    fixData: false,
    removeNulls: false,
    dedupe: false,
    verbose: false,
    showProgress: false,
    logs: false,
    abridged: true,
  });
  console.log(JSON.stringify({ success: result.success, failed: result.failed, total: result.total }));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
