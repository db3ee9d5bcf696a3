//! Benches live in `benches/`; each measures weft beside a peer implementation on the same
//! input in the same run. Run with `cargo bench -p weft-benches`.

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

/// A fixture from the shared fixture folder beside the repository.
pub fn shared_fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures")
        .join(rel)
}
