// The browsers of the server's browser tests, behind one small interface
// ({ version, newPage(), close() }; pages have goto, evaluate and on('console'|'pageerror')):
// - Chromium (Debian's /usr/bin/chromium) through playwright-core;
// - Firefox ESR (Debian's /usr/bin/firefox-esr) through puppeteer-core over WebDriver BiDi
//   (playwright drives only its own patched Firefox builds).
// Both packages are the copies scripts/setup installs for weft-peer's browser tests
// (peer/tests/browser/node_modules); neither ever downloads a browser. Used by page.mjs and
// room.mjs. Both get a fake camera and microphone, granted without asking.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = path.resolve(here, '../../../peer/tests/browser/node_modules');

export const DEFAULT_PATH = { chromium: '/usr/bin/chromium', firefox: '/usr/bin/firefox-esr' };

// Starts `name` ('chromium' or 'firefox') from `executablePath`; `extraArgs` are added to
// Chromium's command line (Firefox takes none).
export async function launch(name, executablePath, extraArgs = []) {
  if (name === 'firefox') return launchFirefox(executablePath);
  if (name === 'chromium') return launchChromium(executablePath, extraArgs);
  throw new Error(`unknown browser ${name}`);
}

async function launchChromium(executablePath, extraArgs) {
  const { chromium } = await import(pathToFileURL(path.join(modules, 'playwright-core/index.mjs')).href);
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
  let first = true;
  return {
    version: `chromium ${context.browser()?.version() ?? '?'}`,
    // The context opens with one blank page: the first caller gets it.
    newPage: async () => {
      const blank = first ? context.pages()[0] : null;
      first = false;
      return blank ?? context.newPage();
    },
    close,
  };
}

async function launchFirefox(executablePath) {
  const mod = await import(pathToFileURL(path.join(modules, 'puppeteer-core/lib/esm/puppeteer/puppeteer-core.js')).href);
  const puppeteer = mod.default;
  const browser = await puppeteer.launch({
    browser: 'firefox', executablePath, headless: true, timeout: 30000,
    extraPrefsFirefox: {
      // A fake camera and microphone, no permission prompt.
      'media.navigator.streams.fake': true,
      'media.navigator.permission.disabled': true,
      // Host candidates stay behind mDNS names (Firefox's default): weft must find Firefox
      // as peer-reflexive from its checks.
    },
  });
  let open = true;
  return {
    version: `firefox ${(await browser.version()).replace(/^firefox\//, '')}`,
    newPage: () => browser.newPage(),
    close: async () => {
      if (!open) return;
      open = false;
      await Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
    },
  };
}

// Runs a test script under one contract: `parse` reads the arguments (`--timeout` among
// them), `body(opt, result, track)` does the work and fills `result` (`track(browser)`
// registers a launched browser for closing); then ONE JSON line, `result` with `error` and
// `totalMs`, goes to stdout, every browser is closed, and the process exits 0 when
// `result.ok` (2 on a usage error). A hard timeout (`opt.timeout` + 2 s) and SIGINT/SIGTERM
// close the browsers too.
export async function runScript({ parse, result, body, log }) {
  const started = Date.now();
  const browsers = [];
  let finished = false;
  const emit = () => {
    if (finished) return;
    finished = true;
    process.stdout.write(`${JSON.stringify(result)}\n`);
  };
  const closeAll = async () => {
    for (const b of browsers.splice(0)) await b.close();
  };
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, async () => { await closeAll(); process.exit(1); });
  }
  let opt;
  try {
    opt = parse(process.argv.slice(2));
  } catch (e) {
    result.error = `usage: ${e.message}`;
    emit();
    process.exit(2);
  }
  const hard = setTimeout(async () => {
    result.error = result.error || `hard timeout after ${opt.timeout} s`;
    emit();
    await closeAll();
    process.exit(1);
  }, opt.timeout * 1000 + 2000);
  hard.unref();
  try {
    await body(opt, result, (b) => { browsers.push(b); return b; });
  } catch (e) {
    result.error = result.error || String(e && e.message ? e.message.split('\n')[0] : e);
    log(`error: ${result.error}`);
  }
  result.totalMs = Date.now() - started;
  emit();
  await closeAll();
  clearTimeout(hard);
  process.exit(result.ok ? 0 : 1);
}
