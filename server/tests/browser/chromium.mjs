// Headless Debian Chromium for the server's browser tests, through the playwright-core that
// scripts/setup installs for weft-peer's browser tests (peer/tests/browser/node_modules); it
// never downloads a browser. Used by page.mjs and room.mjs.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

// Starts Chromium with a fake camera and microphone (granted without asking). `extraArgs`
// are added to the command line. Returns { context, version, close }.
export async function launch(executablePath, extraArgs = []) {
  const pw = path.resolve(here, '../../../peer/tests/browser/node_modules/playwright-core/index.mjs');
  const { chromium } = await import(pathToFileURL(pw).href);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-server-chromium-'));
  const args = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--no-default-browser-check', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-breakpad',
    '--disable-dev-shm-usage', '--disable-field-trial-config',
    '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
    '--disable-backgrounding-occluded-windows', '--mute-audio',
    '--allow-loopback-in-peer-connection',
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    ...extraArgs,
    `--user-data-dir=${profile}`, '--remote-debugging-pipe', 'about:blank',
  ];
  let context = null;
  const close = async () => {
    if (context) {
      const c = context;
      context = null;
      await Promise.race([c.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
    }
    try { fs.rmSync(profile, { recursive: true, force: true }); } catch { /* best effort */ }
  };
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath, headless: true, ignoreDefaultArgs: true, args, timeout: 30000,
    });
  } catch (e) {
    await close();
    throw e;
  }
  return { context, version: context.browser()?.version() ?? null, close };
}
