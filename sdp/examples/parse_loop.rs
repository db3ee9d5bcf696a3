//! Parses a description many times: a steady workload for profilers
//! (`valgrind --tool=callgrind`, `perf record`).
fn main() {
    let path = std::env::args().nth(1).expect("usage: parse_loop FILE [N]");
    let n: usize = std::env::args()
        .nth(2)
        .map_or(10_000, |s| s.parse().expect("N"));
    let text = std::fs::read_to_string(path).expect("readable SDP");
    let mut total = 0;
    for _ in 0..n {
        let sd = weft_sdp::parse(std::hint::black_box(&text)).expect("valid SDP");
        total += sd.media.len();
    }
    println!("{total}");
}
