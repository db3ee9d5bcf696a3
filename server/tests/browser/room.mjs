#!/usr/bin/env node
// Two browser pages (two pages of one headless Chromium, or Chromium and Firefox ESR) join one room of weft-server's WebSocket signalling
// (GET /room, which signals over GET /ws), for server/tests/browser.rs:
//
//   node room.mjs --url-a URL --url-b URL [--browser-a chromium|firefox] [--browser-b ...] [--timeout 60]
//
// Page A opens and joins first; then page B, which offers to A and to the server (a member
// of every room); A offers to the server too. Each page trickles its candidates over the
// socket. Waits until both pages are connected to each other with the other's chat
// message received, and each has `session_started` from the server on `detections` (or an
// error, or the timeout), then prints ONE JSON line {ok, a, b, browser, error} on stdout.

import { DEFAULT_PATH, launch, runScript } from './browsers.mjs';

const started = Date.now();
const log = (...a) => console.error(`[room +${Date.now() - started}ms]`, ...a);

function parseArgs(argv) {
  const o = { a: null, b: null, timeout: 60, browserA: 'chromium', browserB: 'chromium' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case '--url-a': o.a = val(); break;
      case '--url-b': o.b = val(); break;
      case '--timeout': o.timeout = Number(val()); break;
      case '--browser-a': o.browserA = val(); break;
      case '--browser-b': o.browserB = val(); break;
      default: throw new Error(`unknown argument ${arg}`);
    }
  }
  if (!o.a || !o.b) throw new Error('--url-a and --url-b are required');
  if (!(o.timeout > 0)) throw new Error('--timeout must be > 0 seconds');
  for (const b of [o.browserA, o.browserB]) {
    if (!DEFAULT_PATH[b]) throw new Error('browsers are chromium or firefox');
  }
  return o;
}

// `s` (one page's window.weftRoom) is connected to `other` with its chat message in, and
// has session_started from the server.
function done(s, other) {
  if (!s || !s.peers) return false;
  const p = s.peers[other];
  const srv = s.peers.server;
  return !!(p && p.connectionState === 'connected' && p.messages.includes(`hello from ${other}`)
    && srv && srv.connectionState === 'connected' && srv.sessionStarted);
}

async function body(opt, result, track) {
  // One browser per kind asked for; two Chromium pages share one Chromium.
  const running = {};
  const get = async (name) => {
    if (!running[name]) {
      // No camera is asked for, so Chromium would hide host addresses behind mDNS names
      // that two pages on a host without multicast cannot resolve; show them. Firefox
      // keeps its mDNS names: its peers learn it as peer-reflexive from its checks.
      const extra = name === 'chromium' ? ['--disable-features=WebRtcHideLocalIpsWithMdns'] : [];
      running[name] = track(await launch(name, DEFAULT_PATH[name], extra));
    }
    return running[name];
  };
  const ba = await get(opt.browserA);
  const bb = await get(opt.browserB);
  result.browser = ba === bb ? ba.version : `${ba.version} + ${bb.version}`;
  const open = async (tag, b, url) => {
    const page = await b.newPage();
    page.on('console', (m) => log(`${tag}: ${m.text()}`));
    page.on('pageerror', (e) => log(`${tag} error: ${e.message}`));
    await page.goto(url, { timeout: 15000 });
    return page;
  };
  const state = (page) => page.evaluate(() => window.weftRoom);
  const deadline = started + opt.timeout * 1000;
  const a = await open('a', ba, opt.a);
  // B joins after A has joined, so B is the one who offers between them.
  let sa = null;
  while (Date.now() < deadline) {
    sa = await state(a);
    if (sa.name || sa.errors.length) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  log(`a joined as ${sa && sa.name}`);
  const b = await open('b', bb, opt.b);
  let sb = null;
  while (Date.now() < deadline) {
    [sa, sb] = await Promise.all([state(a), state(b)]);
    if ((done(sa, sb.name) && done(sb, sa.name)) || sa.errors.length || sb.errors.length) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  result.a = sa;
  result.b = sb;
  result.ok = done(sa, sb.name) && done(sb, sa.name) && !sa.errors.length && !sb.errors.length;
  if (!result.ok) {
    result.error = [...sa.errors, ...sb.errors].join('; ') || 'not every connection came up';
  }
  log(`ok=${result.ok}`);
}

runScript({ parse: parseArgs, result: { ok: false, a: null, b: null, browser: null, error: null, totalMs: null }, body, log });
