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
