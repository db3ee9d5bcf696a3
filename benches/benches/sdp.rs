//! SDP parse and write: weft-sdp beside `sdp` (webrtc-rs) and `webrtc-sdp` (Mozilla), on the
//! same Chromium audio+video+data channel offer.

use std::hint::black_box;
use std::io::Cursor;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn offer() -> String {
    let path = weft_benches::shared_fixture("sdp/chromium_av_datachannel_offer.sdp");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse(c: &mut Criterion) {
    let text = offer();
    let mut g = c.benchmark_group("sdp_parse");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("weft", |b| {
        b.iter(|| weft_sdp::parse(black_box(&text)).unwrap())
    });
    g.bench_function("weft_owned", |b| {
        b.iter(|| weft_sdp::parse(black_box(&text)).unwrap().into_owned())
    });
    g.bench_function("sdp_webrtc-rs", |b| {
        b.iter(|| sdp::SessionDescription::unmarshal(&mut Cursor::new(black_box(&text))).unwrap())
    });
    g.bench_function("webrtc-sdp_mozilla", |b| {
        b.iter(|| webrtc_sdp::parse_sdp(black_box(&text), false).unwrap())
    });
    g.finish();
}

fn write(c: &mut Criterion) {
    let text = offer();
    let weft = weft_sdp::parse(&text).unwrap();
    let webrtc_rs = sdp::SessionDescription::unmarshal(&mut Cursor::new(&text)).unwrap();
    let mozilla = webrtc_sdp::parse_sdp(&text, false).unwrap();
    let mut g = c.benchmark_group("sdp_write");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("weft", |b| b.iter(|| black_box(&weft).to_sdp_string()));
    g.bench_function("sdp_webrtc-rs", |b| {
        b.iter(|| black_box(&webrtc_rs).marshal())
    });
    g.bench_function("webrtc-sdp_mozilla", |b| {
        b.iter(|| black_box(&mozilla).to_string())
    });
    g.finish();
}

criterion_group!(benches, parse, write);
criterion_main!(benches);
