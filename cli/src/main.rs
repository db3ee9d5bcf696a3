//! `weft`: inspect and check WebRTC protocol data. It grows with each protocol crate.

#![forbid(unsafe_code)]
// A tool run by a person: it may read clocks and draw OS randomness (clippy.toml).
#![allow(clippy::disallowed_methods)]

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod dtls;
mod echo;
mod rtp_decode;
mod sdp_summary;
mod stun_decode;

#[derive(Parser)]
#[command(
    name = "weft",
    version,
    about = "Inspect and check WebRTC protocol data"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Session descriptions (SDP, RFC 8866).
    Sdp {
        #[command(subcommand)]
        command: SdpCommand,
    },
    /// STUN and TURN messages (RFC 8489, RFC 8656).
    Stun {
        #[command(subcommand)]
        command: StunCommand,
    },
    /// RTP packets (RFC 3550, RFC 8285).
    Rtp {
        #[command(subcommand)]
        command: RtpCommand,
    },
    /// RTCP compound packets (RFC 3550, RFC 4585, RFC 5104).
    Rtcp {
        #[command(subcommand)]
        command: RtcpCommand,
    },
    /// DTLS 1.2 (RFC 6347): decode records, or run a client or server over UDP.
    Dtls {
        #[command(subcommand)]
        command: DtlsCommand,
    },
    /// Mint a WebSocket signalling token for weft-server's `GET /ws?token=` (HS256,
    /// JWT-shaped), signed with the server's `--ws-secret`. Prints the token.
    Token {
        /// The secret (the server's WEFT_WS_SECRET).
        #[arg(long, env = "WEFT_WS_SECRET", hide_env_values = true)]
        secret: String,
        /// The name the socket speaks as in its rooms.
        #[arg(long)]
        sub: String,
        /// The one room it may join (default: any).
        #[arg(long)]
        room: Option<String>,
        /// Seconds it stays valid.
        #[arg(long, default_value_t = 3600)]
        ttl: u64,
    },
    /// The "WebRTC echo" interop tests: a server peer and a client peer that any other
    /// stack's echo peers can run against (POST /offer signalling, non-trickle).
    Echo {
        #[command(subcommand)]
        command: EchoCommand,
    },
}

#[derive(Subcommand)]
enum EchoCommand {
    /// Answer every `POST /offer`: echo the RTP each client sends and every data channel
    /// message. Prints `listening on URL`, then a line per session.
    Serve {
        /// HOST:PORT of the HTTP signalling server; peer connections bind the same host
        /// (0.0.0.0: every primary address).
        #[arg(long, default_value = "0.0.0.0:8080")]
        bind: SocketAddr,
    },
    /// Run one test against a server peer; exit 0 on success, 1 on failure or timeout.
    /// Prints one summary line.
    Client {
        /// The server: `http://HOST:PORT` (then `/offer` is added) or the full offer URL.
        #[arg(short = 's', long = "server", default_value = "http://127.0.0.1:8080")]
        server: String,
        /// 0: peer connection (media echo); 1: data channel echo.
        #[arg(short = 't', long = "test", default_value_t = 1)]
        test: u8,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 30.0)]
        timeout: f64,
    },
}

#[derive(clap::Args)]
struct DtlsOptions {
    /// SRTP profiles to offer or accept, OpenSSL names, colon-separated
    /// (e.g. SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80).
    #[arg(long)]
    srtp_profiles: Option<String>,
    /// PEM certificate (with --key); without both, a fresh ECDSA P-256 one is generated.
    #[arg(long)]
    cert: Option<PathBuf>,
    /// PEM PKCS#8 private key of --cert.
    #[arg(long)]
    key: Option<PathBuf>,
    /// The peer certificate must match this fingerprint ("sha-256 AB:CD:..."); repeatable.
    #[arg(long)]
    expect_fingerprint: Vec<String>,
}

#[derive(Subcommand)]
enum RtpCommand {
    /// Print the header, CSRCs, extension elements (typed by --extmap ID=URI, or by
    /// Chromium's default ids) and payload size of an RTP packet.
    Decode {
        /// Hex of the packet, or a file holding hex or raw bytes; `-` or nothing reads
        /// standard input.
        input: Option<String>,
        /// An `a=extmap` mapping, ID=URI; repeatable.
        #[arg(long)]
        extmap: Vec<String>,
    },
}

#[derive(Subcommand)]
enum RtcpCommand {
    /// Print every packet of an RTCP compound.
    Decode {
        /// Hex of the compound, or a file holding hex or raw bytes; `-` or nothing reads
        /// standard input.
        input: Option<String>,
    },
}

impl From<DtlsOptions> for dtls::Options {
    fn from(o: DtlsOptions) -> Self {
        dtls::Options {
            srtp_profiles: o.srtp_profiles,
            cert: o.cert,
            key: o.key,
            expect_fingerprint: o.expect_fingerprint,
        }
    }
}

#[derive(Subcommand)]
enum DtlsCommand {
    /// Print the records of a datagram and its plaintext handshake messages.
    Decode {
        /// Hex of the datagram, or a file holding hex or raw bytes; `-` or nothing reads
        /// standard input.
        input: Option<String>,
    },
    /// Connect to a DTLS 1.2 server over UDP; print the negotiated parameters and the SRTP
    /// keying material, then echo stdin to the peer and the peer to stdout.
    Connect {
        /// HOST:PORT of the server.
        addr: SocketAddr,
        #[command(flatten)]
        options: DtlsOptions,
    },
    /// Accept one DTLS 1.2 client on HOST:PORT (with a cookie exchange); then as connect.
    Listen {
        /// HOST:PORT to bind.
        addr: SocketAddr,
        #[command(flatten)]
        options: DtlsOptions,
    },
}

#[derive(Subcommand)]
enum StunCommand {
    /// Print every attribute of a STUN message (or a TURN ChannelData frame). FINGERPRINT is
    /// checked when present; with --password, MESSAGE-INTEGRITY too. Exits 1 when the input
    /// is malformed or a check fails.
    Decode {
        /// Hex of the message, or a file holding hex or raw bytes; `-` or nothing reads
        /// standard input.
        input: Option<String>,
        /// Verify MESSAGE-INTEGRITY: the short-term password (ICE `a=ice-pwd`), or the
        /// long-term password when the message carries REALM (or --realm is given).
        #[arg(long)]
        password: Option<String>,
        /// Long-term credentials: the username, when the message has no USERNAME.
        #[arg(long)]
        username: Option<String>,
        /// Long-term credentials: the realm, when the message has no REALM.
        #[arg(long)]
        realm: Option<String>,
    },
}

#[derive(Subcommand)]
enum SdpCommand {
    /// Parse a description and print a readable summary (or the typed model as JSON).
    /// Exits 1 on malformed input, printing `line L, column C: <what was expected>`.
    Check {
        /// SDP file; `-` or nothing reads standard input.
        file: Option<PathBuf>,
        /// Print the typed model as JSON instead of the summary.
        #[arg(long)]
        json: bool,
    },
    /// Print the canonical serialization (CRLF line endings).
    Fmt {
        /// SDP file; `-` or nothing reads standard input.
        file: Option<PathBuf>,
    },
}

fn read_input(file: Option<&PathBuf>) -> Result<Vec<u8>, String> {
    match file {
        Some(p) if p.as_os_str() != "-" => {
            std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
        }
        _ => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
            Ok(buf)
        }
    }
}

/// `weft stun decode` input: hex on the command line, a file, or standard input.
fn read_stun_input(input: Option<&str>) -> Result<Vec<u8>, String> {
    match input {
        Some(arg) if arg != "-" => {
            let path = std::path::Path::new(arg);
            if path.exists() {
                let raw = std::fs::read(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                Ok(stun_decode::bytes_from_input(&raw))
            } else {
                stun_decode::parse_hex(arg)
                    .ok_or_else(|| format!("{arg:?} is neither a file nor hex"))
            }
        }
        _ => read_input(None).map(|raw| stun_decode::bytes_from_input(&raw)),
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Rtp {
            command: RtpCommand::Decode { input, extmap },
        } => {
            let bytes = read_stun_input(input.as_deref())?;
            let map = extmap
                .iter()
                .map(|e| {
                    let (id, uri) = e.split_once('=').ok_or(format!("{e:?}: want ID=URI"))?;
                    let id = id.parse::<u8>().map_err(|_| format!("{e:?}: bad id"))?;
                    Ok((id, uri.to_owned()))
                })
                .collect::<Result<Vec<_>, String>>()?;
            let out = rtp_decode::rtp(&bytes, &map)?;
            std::io::stdout()
                .write_all(out.as_bytes())
                .map_err(|e| format!("cannot write: {e}"))
        }
        Command::Rtcp {
            command: RtcpCommand::Decode { input },
        } => {
            let bytes = read_stun_input(input.as_deref())?;
            let out = rtp_decode::rtcp(&bytes)?;
            std::io::stdout()
                .write_all(out.as_bytes())
                .map_err(|e| format!("cannot write: {e}"))
        }
        Command::Dtls { command } => match command {
            DtlsCommand::Decode { input } => {
                let bytes = read_stun_input(input.as_deref())?;
                let report = dtls::decode(&bytes)?;
                std::io::stdout()
                    .write_all(report.as_bytes())
                    .map_err(|e| format!("cannot write: {e}"))
            }
            DtlsCommand::Connect { addr, options } => {
                dtls::run(weft_dtls_srtp::Role::Client, addr, &options.into())
            }
            DtlsCommand::Listen { addr, options } => {
                dtls::run(weft_dtls_srtp::Role::Server, addr, &options.into())
            }
        },
        Command::Token {
            secret,
            sub,
            room,
            ttl,
        } => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_err(|e| format!("clock before 1970: {e}"))?
                .as_secs();
            let claims = weft_signal::Claims {
                sub,
                room,
                exp: now.saturating_add(ttl),
            };
            println!("{}", weft_signal::token::sign(secret.as_bytes(), &claims));
            Ok(())
        }
        Command::Echo { command } => match command {
            EchoCommand::Serve { bind } => echo::serve(bind),
            EchoCommand::Client {
                server,
                test,
                timeout,
            } => {
                let timeout = std::time::Duration::try_from_secs_f64(timeout)
                    .map_err(|_| format!("--timeout {timeout}: not a duration"))?;
                echo::client(&server, test, timeout)
            }
        },
        Command::Stun {
            command:
                StunCommand::Decode {
                    input,
                    password,
                    username,
                    realm,
                },
        } => {
            let bytes = read_stun_input(input.as_deref())?;
            let creds = stun_decode::Credentials {
                password: password.as_deref(),
                username: username.as_deref(),
                realm: realm.as_deref(),
            };
            let (report, ok) = stun_decode::decode(&bytes, &creds)?;
            std::io::stdout()
                .write_all(report.as_bytes())
                .map_err(|e| format!("cannot write: {e}"))?;
            if ok {
                Ok(())
            } else {
                Err("verification failed".to_owned())
            }
        }
        Command::Sdp { command } => {
            let (file, mode) = match &command {
                SdpCommand::Check { file, json } => (file.as_ref(), if *json { 1 } else { 0 }),
                SdpCommand::Fmt { file } => (file.as_ref(), 2),
            };
            let bytes = read_input(file)?;
            let sd = weft_sdp::parse_bytes(&bytes).map_err(|e| e.to_string())?;
            let out = match mode {
                0 => sdp_summary::summary(&sd),
                1 => {
                    let mut s = serde_json::to_string_pretty(&sd).map_err(|e| e.to_string())?;
                    s.push('\n');
                    s
                }
                _ => sd.to_sdp_string(),
            };
            std::io::stdout()
                .write_all(out.as_bytes())
                .map_err(|e| format!("cannot write: {e}"))
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("{msg}");
            ExitCode::FAILURE
        }
    }
}
