import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { progressLine } from './progress.js';

function terminal(isTTY: boolean): PassThrough & { isTTY: boolean; text: () => string } {
  const stream = new PassThrough() as PassThrough & { isTTY: boolean; text: () => string };
  let written = '';
  stream.on('data', (chunk: Buffer) => (written += chunk.toString()));
  stream.isTTY = isTTY;
  stream.text = () => written;
  return stream;
}

describe('progress line', () => {
  it('shows the counts on a terminal', async () => {
    const stream = terminal(true);
    const line = progressLine('{value} rows read | {delivered} delivered', { delivered: 0 }, stream);
    line?.update(2500, { delivered: 2000 });
    line?.stop();
    await new Promise((resolve) => setImmediate(resolve));
    expect(stream.text()).toContain('2500 rows read | 2000 delivered');
  });

  it('stays silent when the output is not a terminal', () => {
    expect(progressLine('{value}', {}, terminal(false))).toBeUndefined();
  });
});
