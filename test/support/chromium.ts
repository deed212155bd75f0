import { accessSync, constants } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * The one way tests drive a browser: Debian's `chromium` package through playwright-core, never a
 * downloaded browser. `IDMERGE_CHROMIUM` names another binary; `IDMERGE_REQUIRE_SYSTEM_DEPS=1`
 * (set by .ci/run) turns a missing browser from a skip into a failure.
 */
const executable = () => process.env.IDMERGE_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Flags every launch uses: no sandbox (containers), no GPU, none of Chromium's own traffic, and a
 * resolver that knows 127.0.0.1 only, so a page can never reach past this machine.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--no-first-run',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
] as const;

const HOW_TO_ENABLE =
  'install Debian\'s browser with "sudo apt-get install -y chromium" (or point IDMERGE_CHROMIUM at a ' +
  'Chromium binary) to run it; .ci/run does this and sets IDMERGE_REQUIRE_SYSTEM_DEPS=1';

function executableMissing(path: string): string | undefined {
  try {
    accessSync(path, constants.X_OK);
    return undefined;
  } catch (error) {
    return `${path} is not an executable file (${(error as NodeJS.ErrnoException).code ?? 'unusable'})`;
  }
}

/**
 * The browser to test with, or why the test is skipped. With `IDMERGE_REQUIRE_SYSTEM_DEPS=1` a
 * missing browser throws instead: CI must not pass by skipping.
 */
export function chromiumOrSkip(): { executablePath: string } | { skip: string } {
  const path = executable();
  const missing = executableMissing(path);
  if (missing === undefined) return { executablePath: path };
  if (process.env.IDMERGE_REQUIRE_SYSTEM_DEPS === '1') {
    throw new Error(`chromium is required (IDMERGE_REQUIRE_SYSTEM_DEPS=1) but ${missing}; ${HOW_TO_ENABLE}`);
  }
  return { skip: `skipped: ${missing}; ${HOW_TO_ENABLE}` };
}

/** Launches headless Chromium with CHROMIUM_ARGS; the caller closes it. */
export async function launchChromium(): Promise<Browser> {
  const found = chromiumOrSkip();
  if ('skip' in found) throw new Error(`launchChromium: ${found.skip}`);
  return chromium.launch({
    executablePath: found.executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS],
    timeout: 30_000,
  });
}
