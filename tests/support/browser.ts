import fs from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/**
 * A headless Chromium for the dashboard tests: Debian's /usr/bin/chromium, or the executable named
 * by TRIBUTARY_CHROMIUM. playwright-core drives it; no browser is downloaded.
 */
export const CHROMIUM_CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
];

export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.TRIBUTARY_CHROMIUM;
  if (override) {
    if (!fs.existsSync(override)) {
      throw new Error(`TRIBUTARY_CHROMIUM is ${JSON.stringify(override)}, but no such file exists`);
    }
    return override;
  }
  const found = CHROMIUM_CANDIDATES.find((p) => fs.existsSync(p));
  if (!found) {
    throw new Error(
      `no Chromium found (looked for ${CHROMIUM_CANDIDATES.join(', ')}): install it (apt-get install chromium) ` +
        'or set TRIBUTARY_CHROMIUM to a Chromium/Chrome executable',
    );
  }
  return found;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: findChromium(),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
