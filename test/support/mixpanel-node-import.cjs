// A tiny server-side app using Mixpanel's Node library to import over HTTPS, as a user would point it
// at the sandbox. Run in its own process so NODE_EXTRA_CA_CERTS can make Node trust the sandbox's
// self-signed certificate (the library builds its own https.Agent and takes no CA option).
// argv: host:port, token, auth ("secret:<s>" or "sa:<user>:<secret>:<project>"), verbose (0|1).
// Prints one JSON line per call: {"call": name, "error": message or null}.
const Mixpanel = require('mixpanel');

const [host, token, auth, verbose] = process.argv.slice(2);
const [kind, ...parts] = auth.split(':');
const config = { host, protocol: 'https', verbose: verbose === '1', logger: { ...console, warn() {} } };
if (kind === 'secret') config.secret = parts[0];
else config.credentials = new Mixpanel.ServiceAccountCredentials(parts[0], parts[1], parts[2]);
const mixpanel = Mixpanel.init(token, config);

const report = (call, error) =>
  process.stdout.write(`${JSON.stringify({ call, error: error ? String(error.message ?? error) : null })}\n`);
const errorList = (errors) => (errors ? { message: errors.map((e) => e.message).join('; ') } : null);

const monthAgo = new Date(Date.now() - 30 * 24 * 3600 * 1000);
mixpanel.import('Imported', monthAgo, { distinct_id: 'U-import', source: 'single' }, (error) => {
  report('import', error);
  const batch = Array.from({ length: 60 }, (_, i) => ({
    event: 'Imported batch',
    properties: { distinct_id: `U-batch-${i % 3}`, time: monthAgo.getTime() + i * 1000, n: i },
  }));
  mixpanel.import_batch(batch, (errors) => {
    report('import_batch', errorList(errors));
  });
});
