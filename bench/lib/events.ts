import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/**
 * Writes `count` deterministic events as NDJSON (~300 bytes, 12 properties): 40% anonymous,
 * 10% login links, 50% identified.
 */
export async function writeEventFile(path: string, count: number): Promise<void> {
  const out = createWriteStream(path);
  const plans = ['free', 'pro', 'team', 'enterprise'];
  for (let i = 0; i < count; i++) {
    const kind = i % 10;
    const properties: Record<string, unknown> = {
      time: 1763800000 + (i % 86_400),
      $insert_id: `bench-${i.toString(36)}`,
      $current_url: `https://shop.example.com/p/${i % 5000}`,
      $referrer: 'https://www.example.org/',
      $os: i % 2 ? 'Mac OS X' : 'Windows',
      $browser: 'Chrome',
      utm_source: 'newsletter',
      utm_campaign: `c-${i % 40}`,
      plan: plans[i % 4],
      price: (i % 500) + 0.99,
      quantity: (i % 7) + 1,
      in_stock: i % 3 !== 0,
    };
    if (kind < 4) properties.$device_id = `d-${(i % 400_000).toString(36)}`;
    else if (kind === 4) {
      properties.$device_id = `d-${(i % 400_000).toString(36)}`;
      properties.$user_id = `u-${(i % 200_000).toString(36)}`;
    } else properties.$user_id = `u-${(i % 200_000).toString(36)}`;
    if (!out.write(`${JSON.stringify({ event: kind < 5 ? 'Page Viewed' : 'Purchase', properties })}\n`))
      await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}
