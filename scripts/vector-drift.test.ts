import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { vectorDrift } from './vector-drift.js';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'vectors-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

describe('vectorDrift', () => {
  it('finds cases the fixtures lack and cases that differ, comparing JSON by value', () => {
    const upstream = tree({ 'a/one.json': '{"x": 1}', 'a/two.json': '{"x": 2}', 'b/three.json': '{"x": 3}' });
    const fixtures = tree({ 'a/one.json': '{\n  "x": 1\n}', 'b/three.json': '{"x": 4}', 'extra.json': '{}' });
    expect(vectorDrift(upstream, fixtures)).toEqual({ missing: ['a/two.json'], different: ['b/three.json'] });
  });

  it('reports nothing when the copies agree', () => {
    const files = { 'README.md': '# cases', 's/c.json': '[1]' };
    expect(vectorDrift(tree(files), tree(files))).toEqual({ missing: [], different: [] });
  });
});
