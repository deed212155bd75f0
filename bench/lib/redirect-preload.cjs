// Loaded with --require into a benchmarked process (ours or a peer tool): Mixpanel's API hosts are
// reached at the local sink instead (127.0.0.1:$IDMERGE_BENCH_SINK_PORT), still over TLS and still
// checked against the host name (the sink's certificate is trusted through NODE_EXTRA_CA_CERTS).
// Any other non-loopback connection is refused, so a benchmark can never reach the internet.
const tls = require('node:tls');
const net = require('node:net');

const MIXPANEL_HOSTS = new Set(['api.mixpanel.com', 'api-eu.mixpanel.com', 'api-in.mixpanel.com']);
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);
const sinkPort = Number(process.env.IDMERGE_BENCH_SINK_PORT);
if (!Number.isInteger(sinkPort) || sinkPort <= 0) {
  throw new Error('redirect-preload: set IDMERGE_BENCH_SINK_PORT to the local sink port');
}

const originalTlsConnect = tls.connect;
tls.connect = function connect(...args) {
  const first = args[0];
  if (first !== null && typeof first === 'object' && !Array.isArray(first)) {
    const host = first.host ?? first.servername ?? 'localhost';
    if (MIXPANEL_HOSTS.has(host)) {
      args[0] = { ...first, host: '127.0.0.1', port: sinkPort, servername: first.servername ?? host };
    }
  }
  return originalTlsConnect.apply(this, args);
};

const originalSocketConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connect(...args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  // An options object (a `path` is a local socket), or (port, host); no host means localhost.
  const host =
    first !== null && typeof first === 'object'
      ? typeof first.path === 'string'
        ? 'localhost'
        : (first.host ?? 'localhost')
      : typeof args[1] === 'string'
        ? args[1]
        : 'localhost';
  if (!LOOPBACK.has(host))
    throw new Error(`redirect-preload: refusing to connect to ${host} (benchmarks stay on this machine)`);
  return originalSocketConnect.apply(this, args);
};
