#!/usr/bin/env node
// Proves peer.mjs without weft: two headless Chromiums talk to each other over loopback through
// a tiny signalling server, with the same endpoints the Rust tests' Signal serves:
//   POST /offer   stores the offer, blocks until an answer is POSTed to /answer, returns it
//   GET  /offer   blocks until an offer exists, returns it
//   POST /answer  stores the answer (and releases the POST /offer)
// The offerer sends the messages, the answerer (--echo) sends them back (--echoer offer: the
// other way round); video and audio go both ways and each side must decode video.
//
//   node selftest.mjs [--mdns on|off|both] [--media on|off] [--echoer offer|answer]
//                     [--messages 1000] [--timeout 60]
// (--media off: data channel only, no getUserMedia, so mDNS host names are not lifted.)
// SELFTEST_VERBOSE=1 prints both peers' logs, SELFTEST_JSON=1 their JSON lines.
// Ends with the line "selftest: N passed, N failed" and exits 0 when all passed.

import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = { mdns: 'both', media: 'on', messages: '1000', timeout: '60', echoer: 'answer' };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, '');
  if (!(k in args) || process.argv[i + 1] === undefined) {
    console.error(`usage: node selftest.mjs [--mdns on|off|both] [--media on|off] [--echoer offer|answer] [--messages N] [--timeout S]`);
    process.exit(2);
  }
  args[k] = process.argv[i + 1];
}

function startSignal() {
  let offer = null;
  let answer = null;
  const offerWaiters = [];
  const answerWaiters = [];
  const readBody = (req) => new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
  const send = (res, status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  };
  const server = http.createServer(async (req, res) => {
    try {
      if (req.method === 'POST' && req.url === '/offer') {
        offer = await readBody(req);
        offerWaiters.splice(0).forEach((w) => w(offer));
        const a = answer ?? await new Promise((r) => answerWaiters.push(r));
        send(res, 200, a);
      } else if (req.method === 'GET' && req.url === '/offer') {
        const o = offer ?? await new Promise((r) => offerWaiters.push(r));
        send(res, 200, o);
      } else if (req.method === 'POST' && req.url === '/answer') {
        answer = await readBody(req);
        answerWaiters.splice(0).forEach((w) => w(answer));
        send(res, 200, '{}');
      } else {
        send(res, 404, '{"error":"not found"}');
      }
    } catch (e) {
      send(res, 500, JSON.stringify({ error: String(e) }));
    }
  });
  server.requestTimeout = 0;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function runPeer(extra) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(here, 'peer.mjs'), ...extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('close', (code) => {
      let json = null;
      try { json = JSON.parse(out.trim().split('\n').pop()); } catch { /* reported below */ }
      resolve({ code, json, stderr: err });
    });
  });
}

async function once(mdns) {
  const server = await startSignal();
  const signal = `http://127.0.0.1:${server.address().port}`;
  const common = ['--signal', signal, '--mdns', mdns, '--messages', args.messages,
    '--timeout', args.timeout, '--media', args.media,
    ...(args.media === 'on' ? ['--expect-media', 'video'] : [])];
  const t0 = Date.now();
  const [offer, answer] = await Promise.all([
    runPeer([...common, '--role', 'offer', ...(args.echoer === 'offer' ? ['--echo'] : [])]),
    runPeer([...common, '--role', 'answer', ...(args.echoer === 'answer' ? ['--echo'] : [])]),
  ]);
  const ms = Date.now() - t0;
  server.close();
  server.closeAllConnections?.();
  const ok = offer.code === 0 && answer.code === 0 && offer.json?.ok && answer.json?.ok;
  for (const [name, r] of [['offer', offer], ['answer', answer]]) {
    const j = r.json || {};
    console.log(`mdns ${mdns} ${name} (${j.chromium}): exit ${r.code} ok=${j.ok} state=${j.connectionState} `
      + `connectedMs=${j.connectedMs} echoed=${j.echoed} echoMs=${j.echoMs} `
      + `video in ${j.inbound?.video?.framesDecoded} frames (${j.inbound?.video?.codec}) `
      + `out ${j.outbound?.video?.framesEncoded} frames, audio in ${j.inbound?.audio?.packetsReceived} pkts; `
      + `pair ${j.pair?.local?.type} ${j.pair?.local?.address}:${j.pair?.local?.port} -> `
      + `${j.pair?.remote?.type} ${j.pair?.remote?.address}:${j.pair?.remote?.port}; `
      + `${j.transport?.tlsVersion} ${j.transport?.dtlsCipher} ${j.transport?.srtpCipher}; `
      + `total ${j.totalMs} ms; error ${j.error}`);
    console.log(`mdns ${mdns} ${name}: local candidates: ${JSON.stringify(j.localCandidates)}`);
    if (!ok || process.env.SELFTEST_VERBOSE) console.log(`--- ${name} stderr ---\n${r.stderr}`);
    if (process.env.SELFTEST_JSON) console.log(JSON.stringify(j));
  }
  console.log(`mdns ${mdns}: ${ok ? 'PASS' : 'FAIL'} in ${ms} ms (both peers, launch to exit)`);
  return ok;
}

const modes = args.mdns === 'both' ? ['on', 'off'] : [args.mdns];
let passed = 0;
let failed = 0;
for (const m of modes) {
  if (await once(m)) passed++; else failed++;
}
console.log(`selftest: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
