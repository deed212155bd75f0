const importSdk = async () => (await import('snowflake-sdk')).default;

export type Sdk = Awaited<ReturnType<typeof importSdk>>;

let loading: Promise<Sdk> | undefined;

const silent = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };

/**
 * Loads snowflake-sdk once, quietly. Two switches must be in the environment before the module
 * is evaluated: platform detection would otherwise probe cloud metadata addresses when the module
 * loads, and a telemetry event would follow every login. The driver's own logger would write
 * `snowflake.log` into the working directory; it is replaced by one that drops everything, since
 * this source reports failures through the errors it throws.
 */
export function loadSnowflakeSdk(): Promise<Sdk> {
  loading ??= (async () => {
    process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION = 'true';
    process.env.SF_TELEMETRY_DISABLE_CONNECTION_SHAPE = '1';
    const sdk = await importSdk();
    sdk.configure({ logLevel: 'OFF', customLogger: silent });
    return sdk;
  })();
  return loading;
}
