#!/usr/bin/env node
// One WebRTC peer in a real headless Debian Chromium, driven with playwright-core, for
// weft-peer's interop tests. It does not know weft: any peer behind the signalling URL will do.
//
//   node peer.mjs --signal http://127.0.0.1:PORT --role offer|answer [--mdns on|off]
//                 [--messages 1000] [--timeout 60] [--expect-media video|audio|any|none]
//                 [--echo] [--media on|off] [--linger-ms 500] [--chromium /usr/bin/chromium]
//                 [--interleaving]
//
// Signalling (done from node, non-trickle: each side sends one SDP with all its candidates):
//   offer:  POST <signal>/offer  {"type":"offer","sdp":...}, the response body is the answer JSON.
//   answer: GET  <signal>/offer  returns the offer JSON; POST <signal>/answer {"type":"answer",...}.
// The page sends camera (fake, 320x240, VP8 preferred) and microphone (fake) tracks, and uses
// the data channel "echo" (created by the offerer): it sends msg-0 .. msg-N-1 and waits for all
// of them back in order, or with --echo sends back whatever it receives on any channel.
// --media off: no getUserMedia and no tracks (a data-channel-only peer; implies
// --expect-media none). Without the media permission Chromium hides host addresses behind
// mDNS names unless --mdns off.
// --interleaving: Chromium's SCTP (dcsctp) declares I-DATA (RFC 8260) and interleaves messages,
// through its field trial WebRTC-DataChannelMessageInterleaving (off by default).
// Prints ONE JSON line on stdout; exits 0 when ok. Progress goes to stderr.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

const started = Date.now();
const log = (...a) => console.error(`[peer ${opt?.role ?? '?'} +${Date.now() - started}ms]`, ...a);

function parseArgs(argv) {
  const o = {
    signal: null, role: null, mdns: 'on', messages: 1000, timeout: 60, expectMedia: 'any',
    echo: false, media: 'on', lingerMs: 500, chromium: '/usr/bin/chromium', interleaving: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--signal': o.signal = val().replace(/\/+$/, ''); break;
      case '--role': o.role = val(); break;
      case '--mdns': o.mdns = val(); break;
      case '--messages': o.messages = Number(val()); break;
      case '--timeout': o.timeout = Number(val()); break;
      case '--expect-media': o.expectMedia = val(); break;
      case '--echo': o.echo = true; break;
      case '--media': o.media = val(); break;
      case '--linger-ms': o.lingerMs = Number(val()); break;
      case '--chromium': o.chromium = val(); break;
      case '--interleaving': o.interleaving = true; break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  if (!o.signal) throw new Error('--signal URL is required');
  if (!['offer', 'answer'].includes(o.role)) throw new Error('--role must be offer or answer');
  if (!['on', 'off'].includes(o.mdns)) throw new Error('--mdns must be on or off');
  if (!['video', 'audio', 'any', 'none'].includes(o.expectMedia)) {
    throw new Error('--expect-media must be video, audio, any or none');
  }
  if (!['on', 'off'].includes(o.media)) throw new Error('--media must be on or off');
  if (o.media === 'off') o.expectMedia = 'none';
  if (!Number.isInteger(o.messages) || o.messages < 0) throw new Error('--messages must be >= 0');
  if (!(o.timeout > 0)) throw new Error('--timeout must be > 0 seconds');
  return o;
}

// Everything below runs inside the page (serialized with toString), as window.weft.
function pageMain() {
  const st = {
    pc: null, stream: null, channels: [], remoteKinds: [], echoed: 0, received: 0,
    errors: [], connectedAt: null, events: [], arrivals: [],
  };
  const note = (m) => { console.log(m); st.events.push(m); };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  function preferVp8(transceiver) {
    if (!transceiver.setCodecPreferences || !RTCRtpReceiver.getCapabilities) return false;
    const caps = RTCRtpReceiver.getCapabilities('video');
    if (!caps) return false;
    const vp8 = caps.codecs.filter((c) => c.mimeType.toLowerCase() === 'video/vp8');
    if (vp8.length === 0) return false;
    const rest = caps.codecs.filter((c) => c.mimeType.toLowerCase() !== 'video/vp8');
    transceiver.setCodecPreferences([...vp8, ...rest]);
    return true;
  }

  async function gatherComplete(pc, ms) {
    if (pc.iceGatheringState === 'complete') return true;
    return await new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') { clearTimeout(t); resolve(true); }
      });
    });
  }

  function watchChannel(dc, echo) {
    st.channels.push(dc);
    note(`data channel "${dc.label}" id=${dc.id} ordered=${dc.ordered}`);
    dc.addEventListener('open', () => note(`data channel "${dc.label}" open`));
    dc.addEventListener('close', () => note(`data channel "${dc.label}" closed`));
    if (echo) {
      dc.addEventListener('message', (e) => {
        // The order messages arrived in, over all channels (the first 100): label and size.
        const size = typeof e.data === 'string' ? e.data.length : (e.data.byteLength ?? e.data.size);
        if (st.arrivals.length < 100) st.arrivals.push([dc.label, size]);
        try { dc.send(e.data); st.echoed++; } catch (err) { st.errors.push(`echo send: ${err}`); }
      });
    }
  }

  async function setup(o) {
    st.opt = o;
    if (o.media) {
      st.stream = await navigator.mediaDevices.getUserMedia({
        video: { width: 320, height: 240 }, audio: true,
      });
    }
    const pc = new RTCPeerConnection({});
    st.pc = pc;
    pc.addEventListener('connectionstatechange', () => {
      note(`connectionState ${pc.connectionState}`);
      if (pc.connectionState === 'connected' && st.connectedAt === null) st.connectedAt = performance.now();
    });
    pc.addEventListener('iceconnectionstatechange', () => note(`iceConnectionState ${pc.iceConnectionState}`));
    pc.addEventListener('track', (e) => {
      st.remoteKinds.push(e.track.kind);
      note(`remote track ${e.track.kind}`);
      // A sink for the remote video, so nothing can skip decoding it.
      if (e.track.kind === 'video') {
        const v = document.createElement('video');
        v.muted = true; v.autoplay = true; v.playsInline = true;
        v.srcObject = new MediaStream([e.track]);
        document.body.appendChild(v);
        v.play().catch(() => {});
      }
    });
    pc.addEventListener('datachannel', (e) => watchChannel(e.channel, o.echo));
    return true;
  }

  function addTracks() {
    const pc = st.pc;
    if (!st.stream) return;
    let vp8 = false;
    for (const track of st.stream.getTracks()) {
      const sender = pc.addTrack(track, st.stream);
      const tr = pc.getTransceivers().find((t) => t.sender === sender);
      if (track.kind === 'video' && tr) vp8 = preferVp8(tr);
    }
    note(`tracks added, VP8 preferred: ${vp8}`);
  }

  async function makeOffer(gatherMs) {
    const pc = st.pc;
    addTracks();
    watchChannel(pc.createDataChannel('echo'), st.opt.echo);
    await pc.setLocalDescription(await pc.createOffer());
    const complete = await gatherComplete(pc, gatherMs);
    note(`offer gathered (complete: ${complete})`);
    return pc.localDescription.sdp;
  }

  async function applyAnswer(sdp) {
    await st.pc.setRemoteDescription({ type: 'answer', sdp });
    note('answer applied');
  }

  async function makeAnswer(sdp, gatherMs) {
    const pc = st.pc;
    await pc.setRemoteDescription({ type: 'offer', sdp });
    addTracks(); // after the offer: the tracks take the offered m-lines' transceivers
    await pc.setLocalDescription(await pc.createAnswer());
    const complete = await gatherComplete(pc, gatherMs);
    note(`answer gathered (complete: ${complete})`);
    return pc.localDescription.sdp;
  }

  async function waitConnected(ms) {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      const s = st.pc.connectionState;
      if (s === 'connected') return true;
      if (s === 'failed' || s === 'closed') return false;
      await sleep(20);
    }
    return false;
  }

  async function waitChannelOpen(ms) {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      const dc = st.channels.find((c) => c.readyState === 'open');
      if (dc) return dc;
      await sleep(20);
    }
    return null;
  }

  // Sends msg-0 .. msg-(n-1) and waits for every one back, in order.
  async function runEcho(n, ms) {
    const t0 = performance.now();
    const dc = await waitChannelOpen(ms);
    if (!dc) return { echoed: 0, echoMs: null, error: 'no data channel opened' };
    const tOpen = performance.now();
    let next = 0;
    let error = null;
    const done = new Promise((resolve) => {
      if (n === 0) resolve();
      dc.addEventListener('message', (e) => {
        const want = `msg-${next}`;
        if (e.data !== want) {
          if (!error) error = `message ${next}: got ${JSON.stringify(String(e.data).slice(0, 64))}, want ${want}`;
          resolve();
          return;
        }
        next++;
        st.received = next;
        if (next === n) resolve();
      });
      dc.addEventListener('close', () => resolve());
    });
    dc.bufferedAmountLowThreshold = 64 * 1024;
    for (let i = 0; i < n; i++) {
      while (dc.bufferedAmount > 1024 * 1024) {
        await new Promise((r) => {
          dc.addEventListener('bufferedamountlow', r, { once: true });
          setTimeout(r, 100);
        });
      }
      if (dc.readyState !== 'open') { error = error || `channel ${dc.readyState} after ${i} sent`; break; }
      dc.send(`msg-${i}`);
    }
    const left = Math.max(0, ms - (performance.now() - t0));
    const timedOut = await Promise.race([done.then(() => false), sleep(left).then(() => true)]);
    if (timedOut && !error) error = `timeout: ${next} of ${n} echoed`;
    if (!error && next < n) error = `channel closed: ${next} of ${n} echoed`;
    return { echoed: next, echoMs: Math.round(performance.now() - tOpen), error };
  }

  // The --echo side: waits until it has sent back n messages (and its buffer drained).
  async function serveEcho(n, ms) {
    const t0 = performance.now();
    const end = t0 + ms;
    let tOpen = null;
    while (performance.now() < end) {
      if (tOpen === null && st.channels.some((c) => c.readyState === 'open')) tOpen = performance.now();
      if (st.echoed >= n && st.channels.every((c) => c.bufferedAmount === 0)) {
        return {
          echoed: st.echoed, echoMs: Math.round(performance.now() - (tOpen ?? t0)), error: null,
          arrivals: st.arrivals,
        };
      }
      await sleep(10);
    }
    return {
      echoed: st.echoed, echoMs: null, error: `timeout: ${st.echoed} of ${n} echoed back`,
      arrivals: st.arrivals,
    };
  }

  async function stats() {
    const r = await st.pc.getStats();
    const all = [];
    r.forEach((s) => all.push(s));
    const codec = (id) => (id && r.get(id) ? r.get(id).mimeType : null);
    const pick = (type, kind, key) => all
      .filter((s) => s.type === type && s.kind === kind)
      .sort((a, b) => (b[key] || 0) - (a[key] || 0))[0];
    const inbound = {};
    const outbound = {};
    for (const kind of ['video', 'audio']) {
      const i = pick('inbound-rtp', kind, 'packetsReceived');
      if (i) {
        inbound[kind] = {
          ssrc: i.ssrc, codec: codec(i.codecId), packetsReceived: i.packetsReceived,
          bytesReceived: i.bytesReceived, packetsLost: i.packetsLost, jitter: i.jitter,
        };
        if (kind === 'video') {
          Object.assign(inbound[kind], {
            framesDecoded: i.framesDecoded, framesReceived: i.framesReceived,
            keyFramesDecoded: i.keyFramesDecoded, frameWidth: i.frameWidth,
            frameHeight: i.frameHeight, decoderImplementation: i.decoderImplementation,
            nackCount: i.nackCount, pliCount: i.pliCount, firCount: i.firCount,
          });
        } else {
          Object.assign(inbound[kind], {
            totalSamplesReceived: i.totalSamplesReceived, concealedSamples: i.concealedSamples,
          });
        }
      }
      const o = pick('outbound-rtp', kind, 'packetsSent');
      if (o) {
        outbound[kind] = {
          ssrc: o.ssrc, codec: codec(o.codecId), packetsSent: o.packetsSent, bytesSent: o.bytesSent,
        };
        if (kind === 'video') {
          Object.assign(outbound[kind], {
            framesEncoded: o.framesEncoded, framesSent: o.framesSent, frameWidth: o.frameWidth,
            frameHeight: o.frameHeight, encoderImplementation: o.encoderImplementation,
          });
        }
      }
    }
    const t = all.find((s) => s.type === 'transport');
    const transport = t ? {
      dtlsState: t.dtlsState, dtlsCipher: t.dtlsCipher, srtpCipher: t.srtpCipher,
      tlsVersion: t.tlsVersion, dtlsRole: t.dtlsRole, iceRole: t.iceRole, iceState: t.iceState,
      bytesSent: t.bytesSent, bytesReceived: t.bytesReceived,
    } : null;
    let p = t && t.selectedCandidatePairId ? r.get(t.selectedCandidatePairId) : null;
    if (!p) p = all.find((s) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded');
    const cand = (id) => {
      const c = id ? r.get(id) : null;
      return c ? {
        type: c.candidateType, address: c.address, port: c.port, protocol: c.protocol,
      } : null;
    };
    const pair = p ? {
      state: p.state, nominated: p.nominated, local: cand(p.localCandidateId),
      remote: cand(p.remoteCandidateId), currentRoundTripTime: p.currentRoundTripTime,
    } : null;
    return { inbound, outbound, pair, transport };
  }

  function mediaSeen(s, expect) {
    const v = s.inbound.video && s.inbound.video.framesDecoded > 0;
    const a = s.inbound.audio && s.inbound.audio.packetsReceived > 0;
    if (expect === 'video') return !!v;
    if (expect === 'audio') return !!a;
    if (expect === 'any') return !!(v || a);
    return true;
  }

  // Polls getStats every 250 ms until the expected inbound media shows up.
  async function waitMedia(expect, ms) {
    const end = performance.now() + ms;
    let s = await stats();
    while (!mediaSeen(s, expect) && performance.now() < end) {
      await sleep(250);
      s = await stats();
    }
    return { seen: mediaSeen(s, expect), stats: s };
  }

  function states() {
    const pc = st.pc;
    return pc ? {
      connectionState: pc.connectionState, iceConnectionState: pc.iceConnectionState,
      remoteTracks: st.remoteKinds, errors: st.errors,
    } : null;
  }

  function close() {
    if (st.pc) st.pc.close();
    if (st.stream) st.stream.getTracks().forEach((t) => t.stop());
  }

  window.weft = {
    setup, makeOffer, applyAnswer, makeAnswer, waitConnected, runEcho, serveEcho, waitMedia,
    stats, states, close,
  };
}

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>weft peer</title></head>
<body><script>(${pageMain.toString()})();</script></body></html>`;

// The page is served from loopback: http://127.0.0.1 is a secure context, so getUserMedia works.
function servePage() {
  return new Promise((resolve, reject) => {
    const server = http.createServer((req, res) => {
      if (req.url === '/' || req.url.startsWith('/?')) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(PAGE);
      } else if (req.url === '/favicon.ico') {
        res.writeHead(204);
        res.end();
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function chromiumArgs(o, profile) {
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-breakpad',
    '--disable-dev-shm-usage',
    '--disable-field-trial-config',
    '--disable-background-timer-throttling',
    '--disable-renderer-backgrounding',
    '--disable-backgrounding-occluded-windows',
    '--mute-audio',
    '--allow-loopback-in-peer-connection',
  ];
  // The fake camera and microphone, granted without a prompt. With --media off the page has no
  // media permission at all, as an ordinary data-channel-only page.
  if (o.media === 'on') args.push('--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream');
  if (o.mdns === 'off') args.push('--disable-features=WebRtcHideLocalIpsWithMdns');
  if (o.interleaving) args.push('--force-fieldtrials=WebRTC-DataChannelMessageInterleaving/Enabled/');
  // playwright's own default flags are ignored (ignoreDefaultArgs: true) so that this list is
  // the whole command line: a second --disable-features would replace, not extend, the first.
  args.push(`--user-data-dir=${profile}`, '--remote-debugging-pipe', 'about:blank');
  return args;
}

// fetch with the deadline, and errors that say which request failed and why.
async function signalFetch(url, init, ms) {
  const what = `${init?.method ?? 'GET'} ${url}`;
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(Math.max(1, ms)) });
  } catch (e) {
    if (e?.name === 'TimeoutError') throw new Error(`${what}: no reply before the timeout`);
    throw new Error(`${what}: ${e?.cause?.code ?? e?.cause?.message ?? e?.message ?? e}`);
  }
}

async function signalJson(url, init, ms) {
  const res = await signalFetch(url, init, ms);
  const text = await res.text();
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: HTTP ${res.status} ${text.slice(0, 200)}`);
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${init?.method ?? 'GET'} ${url}: not JSON: ${text.slice(0, 200)}`);
  }
  return body;
}

const candidateLines = (sdp) => (sdp || '').split(/\r?\n/).filter((l) => l.startsWith('a=candidate:'));

let opt;
let context = null;
let pageServer = null;
let profile = null;
let finished = false;

function cleanupSync() {
  if (profile) {
    try { fs.rmSync(profile, { recursive: true, force: true }); } catch { /* best effort */ }
  }
}

async function closeAll() {
  if (context) {
    const c = context;
    context = null;
    await Promise.race([c.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
  }
  if (pageServer) { pageServer.close(); pageServer = null; }
  cleanupSync();
}

function emit(result) {
  if (finished) return;
  finished = true;
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function main() {
  try {
    opt = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`peer.mjs: ${e.message}`);
    emit({ ok: false, error: `usage: ${e.message}` });
    process.exit(2);
  }
  const deadline = started + opt.timeout * 1000;
  const left = () => Math.max(0, deadline - Date.now());
  const result = {
    ok: false, role: opt.role, mdns: opt.mdns, echo: opt.echo, media: opt.media,
    connectionState: null,
    iceConnectionState: null, connectedMs: null, echoed: 0, echoMs: null, mediaSeen: false,
    remoteTracks: [], inbound: {}, outbound: {}, pair: null, transport: null,
    localCandidates: [], remoteCandidates: [], chromium: null, totalMs: null, error: null,
  };

  // The hard timeout: whatever hangs, report, close the browser, delete the profile, exit 1.
  const hard = setTimeout(async () => {
    result.error = result.error || `hard timeout after ${opt.timeout} s`;
    result.totalMs = Date.now() - started;
    log(result.error);
    emit(result);
    await closeAll();
    process.exit(1);
  }, opt.timeout * 1000 + 2000);
  hard.unref();

  try {
    if (!fs.existsSync(opt.chromium)) throw new Error(`${opt.chromium} is missing (scripts/setup installs it)`);
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-chromium-'));
    pageServer = await servePage();
    const pageUrl = `http://127.0.0.1:${pageServer.address().port}/`;
    const args = chromiumArgs(opt, profile);
    log(`launching ${opt.chromium} ${args.join(' ')}`);
    context = await chromium.launchPersistentContext(profile, {
      executablePath: opt.chromium,
      headless: true,
      ignoreDefaultArgs: true,
      args,
      timeout: Math.min(left(), 30000),
    });
    result.chromium = context.browser()?.version() ?? null;
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => log(`page: ${m.text()}`));
    page.on('pageerror', (e) => log(`page error: ${e.message}`));
    await page.goto(pageUrl, { timeout: Math.min(left(), 15000) });
    if (!result.chromium) result.chromium = await page.evaluate(() => navigator.userAgent);
    await page.evaluate((o) => window.weft.setup(o), { echo: opt.echo, media: opt.media === 'on' });
    log(`${opt.media === 'on' ? 'getUserMedia ok, ' : ''}RTCPeerConnection made`);

    const gatherMs = Math.min(10000, left());
    let localSdp;
    let remoteSdp;
    if (opt.role === 'offer') {
      localSdp = await page.evaluate((ms) => window.weft.makeOffer(ms), gatherMs);
      log(`POST ${opt.signal}/offer (${candidateLines(localSdp).length} candidates)`);
      const answer = await signalJson(`${opt.signal}/offer`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'offer', sdp: localSdp }),
      }, left());
      if (answer.type !== 'answer' || typeof answer.sdp !== 'string') throw new Error('signal: the reply to POST /offer is not an answer');
      remoteSdp = answer.sdp;
      await page.evaluate((sdp) => window.weft.applyAnswer(sdp), remoteSdp);
    } else {
      log(`GET ${opt.signal}/offer`);
      const offer = await signalJson(`${opt.signal}/offer`, { method: 'GET' }, left());
      if (offer.type !== 'offer' || typeof offer.sdp !== 'string') throw new Error('signal: GET /offer returned no offer');
      remoteSdp = offer.sdp;
      localSdp = await page.evaluate(([sdp, ms]) => window.weft.makeAnswer(sdp, ms), [remoteSdp, gatherMs]);
      log(`POST ${opt.signal}/answer (${candidateLines(localSdp).length} candidates)`);
      const res = await signalFetch(`${opt.signal}/answer`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'answer', sdp: localSdp }),
      }, left());
      await res.text();
      if (!res.ok) throw new Error(`POST ${opt.signal}/answer: HTTP ${res.status}`);
    }
    result.localCandidates = candidateLines(localSdp);
    result.remoteCandidates = candidateLines(remoteSdp);
    const tSignalled = Date.now();

    const connected = await page.evaluate((ms) => window.weft.waitConnected(ms), left());
    result.connectedMs = Date.now() - tSignalled;
    log(`connected: ${connected} after ${result.connectedMs} ms`);
    if (!connected) throw new Error('the peer connection did not reach "connected"');

    const echo = opt.echo
      ? await page.evaluate(([n, ms]) => window.weft.serveEcho(n, ms), [opt.messages, left()])
      : await page.evaluate(([n, ms]) => window.weft.runEcho(n, ms), [opt.messages, left()]);
    result.echoed = echo.echoed;
    result.echoMs = echo.echoMs;
    if (echo.arrivals) result.arrivals = echo.arrivals;
    log(`echo: ${echo.echoed}/${opt.messages} in ${echo.echoMs} ms${echo.error ? ` (${echo.error})` : ''}`);
    if (echo.error) result.error = echo.error;

    const media = await page.evaluate(([e, ms]) => window.weft.waitMedia(e, ms), [opt.expectMedia, left()]);
    Object.assign(result, media.stats);
    result.mediaSeen = media.seen;
    log(`media (${opt.expectMedia}) seen: ${media.seen}`);
    const s = await page.evaluate(() => window.weft.states());
    result.connectionState = s.connectionState;
    result.iceConnectionState = s.iceConnectionState;
    result.remoteTracks = s.remoteTracks;
    if (s.errors.length && !result.error) result.error = s.errors.join('; ');
    if (!media.seen && !result.error) result.error = `no inbound ${opt.expectMedia} media`;
    // "connected" was reached above; the state now is reported as it is (a remote that has
    // finished first may already have closed).
    result.ok = !result.error && result.echoed === opt.messages && media.seen;
    // Lets the last echoes and RTCP reach the remote before this side goes away.
    if (opt.lingerMs > 0) await new Promise((r) => setTimeout(r, Math.min(opt.lingerMs, left())));
    await page.evaluate(() => window.weft.close()).catch(() => {});
  } catch (e) {
    result.error = result.error || String(e && e.message ? e.message.split('\n')[0] : e);
    log(`error: ${result.error}`);
  }
  result.totalMs = Date.now() - started;
  emit(result);
  await closeAll();
  clearTimeout(hard);
  process.exit(result.ok ? 0 : 1);
}

process.on('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    log(`${sig}: closing`);
    await closeAll();
    process.exit(1);
  });
}
main();
