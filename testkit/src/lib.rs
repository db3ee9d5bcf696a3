//! # weft-testkit
//!
//! Test-only helpers shared by the protocol crates' integration tests (a dev-dependency,
//! never a dependency): starting the real peers that tests talk to. Today: Debian's coturn
//! (`turnserver`) on 127.0.0.1 with a long-term credential user.
//!
//! A real peer that is not installed skips the test with a message, except under CI
//! (`CI=true`), where it is a failure: `scripts/setup` installs them.

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A running `turnserver`, killed and reaped when dropped (also when an assertion fails).
pub struct Coturn {
    child: Child,
    /// Where it listens (UDP and TCP).
    pub addr: SocketAddr,
    /// The long-term credential user and password.
    pub user: (&'static str, &'static str),
    /// Its realm.
    pub realm: &'static str,
    log: PathBuf,
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

impl Coturn {
    /// Its log so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether it has exited, and how.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

/// A port free for both UDP and TCP on 127.0.0.1 (turnserver listens on both).
pub fn free_port() -> u16 {
    loop {
        let Ok(udp) = UdpSocket::bind("127.0.0.1:0") else {
            continue;
        };
        let Ok(port) = udp.local_addr().map(|a| a.port()) else {
            continue;
        };
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Starts coturn on 127.0.0.1 with user `test:test`, realm `test.local`, relaying on
/// 127.0.0.1 with loopback peers allowed. `None` (with a SKIPPED line) when `turnserver`
/// is missing outside CI.
///
/// # Panics
/// Under `CI=true` when `turnserver` is missing; when it cannot be spawned.
pub fn start_coturn() -> Option<Coturn> {
    let found = Command::new("turnserver")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("turnserver (coturn) is not installed; scripts/setup installs it");
        }
        println!("SKIPPED: turnserver (coturn) not installed; run scripts/setup");
        return None;
    }
    let port = free_port();
    let log = std::env::temp_dir().join(format!("weft-coturn-{}-{port}.log", std::process::id()));
    let child = Command::new("turnserver")
        .args([
            "-n",
            "--listening-ip=127.0.0.1",
            "--relay-ip=127.0.0.1",
            &format!("--listening-port={port}"),
            "--no-tls",
            "--no-dtls",
            "--no-cli",
            "--allow-loopback-peers",
            "--lt-cred-mech",
            "--user=test:test",
            "--realm=test.local",
            &format!("--log-file={}", log.display()),
            "--simple-log",
            "--pidfile",
            "/dev/null",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let child = match child {
        Ok(c) => c,
        Err(e) => panic!("turnserver does not start: {e}"),
    };
    Some(Coturn {
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        user: ("test", "test"),
        realm: "test.local",
        log,
    })
}

/// Hex digits (whitespace ignored) to bytes.
///
/// # Panics
/// On an odd number of digits or a non-hex character: test data is wrong.
pub fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(digits.len().is_multiple_of(2), "odd number of hex digits");
    digits
        .chunks(2)
        .map(|p| {
            let text = std::str::from_utf8(p).unwrap_or("zz");
            match u8::from_str_radix(text, 16) {
                Ok(b) => b,
                Err(_) => panic!("not hex: {text:?}"),
            }
        })
        .collect()
}

/// One datagram of a captured call.
#[derive(Debug, Clone, PartialEq)]
pub struct Datagram {
    /// Seconds since the first datagram.
    pub time: f64,
    /// Source address and port, as text.
    pub src: String,
    /// Destination address and port, as text.
    pub dst: String,
    /// The UDP payload.
    pub bytes: Vec<u8>,
}

/// The datagrams of the real Chromium call in `../shared/fixtures/wire/` (ICE, DTLS,
/// SRTP, SRTCP, SCTP), in capture order.
///
/// # Panics
/// When the fixture is missing or malformed.
pub fn chromium_call_datagrams() -> Vec<Datagram> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/wire/chromium_call_datagrams.txt"
    );
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => panic!("{path}: {e}"),
    };
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let [time, sa, sp, da, dp, payload] = f[..] else {
                panic!("malformed fixture line: {l}");
            };
            Datagram {
                time: time.parse().unwrap_or(0.0),
                src: format!("{sa} {sp}"),
                dst: format!("{da} {dp}"),
                bytes: hex(payload),
            }
        })
        .collect()
}
