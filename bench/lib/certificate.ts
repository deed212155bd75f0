import { generate } from 'selfsigned';

/** Mixpanel's API hosts, which the benchmark sink stands in for. */
export const MIXPANEL_HOSTS = ['api.mixpanel.com', 'api-eu.mixpanel.com', 'api-in.mixpanel.com'];

/**
 * A self-signed certificate for the benchmark sink, valid for Mixpanel's host names and
 * 127.0.0.1, so clients verify it as they would the real service (trusted via NODE_EXTRA_CA_CERTS).
 */
export async function sinkCertificate(): Promise<{ cert: string; key: string }> {
  const pems = await generate([{ name: 'commonName', value: 'api.mixpanel.com' }], {
    keySize: 2048,
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          ...MIXPANEL_HOSTS.map((value) => ({ type: 2 as const, value })),
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}
