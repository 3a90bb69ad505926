import { type Browser, chromium } from 'playwright-core';
import { requireChromium } from '../../infra/toolchain.ts';

/**
 * A headless Chromium for the dashboard tests, driven by playwright-core (no browser download):
 * TRIBUTARY_CHROMIUM, else the system's Chromium or Chrome; as root on Debian a missing Chromium is
 * installed with apt-get, elsewhere the test stops with the command to install it.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = await requireChromium((line) => console.error(`[browser] ${line}`));
  return chromium.launch({
    executablePath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      // without these Chromium keeps calling home, which a closed network refuses noisily
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
