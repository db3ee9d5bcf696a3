#!/usr/bin/env node
// Opens weft-server's own page (GET /) in headless Debian Chromium with a fake camera and
// microphone (or Firefox ESR: --browser firefox), and reports what the page shows (its window.weftState), for server/tests/browser.rs.
//
//   node page.mjs --url http://127.0.0.1:PORT/ [--browser chromium|firefox] [--timeout 60] [--path EXE]
//
// Waits until the page's state shows a stats event with video and audio frames > 0 (or an
// error, or the timeout), then prints ONE JSON line {ok, state, browser, error} on stdout.
// The browsers are launched by browsers.mjs.

import { DEFAULT_PATH, launch, runScript } from './browsers.mjs';

const started = Date.now();
const log = (...a) => console.error(`[page +${Date.now() - started}ms]`, ...a);

function parseArgs(argv) {
  const o = { url: null, timeout: 60, browser: 'chromium', path: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--url': o.url = val(); break;
      case '--timeout': o.timeout = Number(val()); break;
      case '--browser': o.browser = val(); break;
      case '--path': o.path = val(); break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  if (!o.url) throw new Error('--url is required');
  if (!(o.timeout > 0)) throw new Error('--timeout must be > 0 seconds');
  if (!DEFAULT_PATH[o.browser]) throw new Error('--browser must be chromium or firefox');
  o.path = o.path || DEFAULT_PATH[o.browser];
  return o;
}

const done = (s) => !!(s && s.lastStats && s.lastStats.video_frames > 0 && s.lastStats.audio_frames > 0);

async function body(opt, result, track) {
  const browser = track(await launch(opt.browser, opt.path));
  result.browser = browser.version;
  const page = await browser.newPage();
  page.on('console', (m) => log(`page: ${m.text()}`));
  page.on('pageerror', (e) => log(`page error: ${e.message}`));
  log(`opening ${opt.url}`);
  await page.goto(opt.url, { timeout: 15000 });
  const deadline = started + opt.timeout * 1000;
  let s = null;
  while (Date.now() < deadline) {
    s = await page.evaluate(() => window.weftState);
    if (done(s) || s.phase === 'failed' || s.connectionState === 'failed') break;
    await new Promise((r) => setTimeout(r, 250));
  }
  // The full event log is long; the test needs the counts, the first events and the last stats.
  s.events = s.events.slice(0, 5);
  result.state = s;
  if (!done(s)) result.error = s.errors.length ? s.errors.join('; ') : 'no stats with video and audio frames';
  result.ok = done(s) && !s.errors.length;
  log(`ok=${result.ok} connection=${s.connectionState} channel=${s.channelState} ` +
      `started after open: ${s.sessionStartedDelayMs} ms, stats: ${JSON.stringify(s.lastStats)}`);
  await page.evaluate(() => document.getElementById('stop').click()).catch(() => {});
  await new Promise((r) => setTimeout(r, 300));
}

runScript({ parse: parseArgs, result: { ok: false, state: null, browser: null, error: null, totalMs: null }, body, log });
