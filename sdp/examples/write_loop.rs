//! Writes a parsed description many times: a steady workload for profilers.
fn main() {
    let path = std::env::args().nth(1).expect("usage: write_loop FILE [N]");
    let n: usize = std::env::args()
        .nth(2)
        .map_or(10_000, |s| s.parse().expect("N"));
    let text = std::fs::read_to_string(path).expect("readable SDP");
    let sd = weft_sdp::parse(&text).expect("valid SDP");
    let mut total = 0;
    for _ in 0..n {
        total += std::hint::black_box(&sd).to_sdp_string().len();
    }
    println!("{total}");
}
