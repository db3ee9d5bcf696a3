//! The client's one request: `POST /offer` over HTTP/1.1 (hyper's connection API; no pool,
//! no TLS: the convention's servers listen on plain `http://`).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// The offer URL of `-s`: `http://HOST:PORT` gets `/offer`; a URL with a path is taken as
/// it is.
pub fn offer_url(server: &str) -> Result<Uri, String> {
    let uri: Uri = server
        .parse()
        .map_err(|e| format!("{server:?} is not a URL: {e}"))?;
    if uri.scheme_str() != Some("http") {
        return Err(format!("{server:?}: only http:// URLs are supported"));
    }
    if uri.path() == "/" || uri.path().is_empty() {
        let base = server.trim_end_matches('/');
        return format!("{base}/offer")
            .parse()
            .map_err(|e| format!("{server:?} is not a URL: {e}"));
    }
    Ok(uri)
}

/// POSTs `body` (JSON) to `uri`; the response body when the status is 2xx.
pub async fn post_json(uri: &Uri, body: String) -> Result<Bytes, String> {
    let host = uri.host().ok_or_else(|| format!("{uri}: no host"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(80);
    let stream = TcpStream::connect((host, port))
        .await
        .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP handshake with {host}:{port}: {e}"))?;
    tokio::spawn(conn);
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_else(|| format!("{host}:{port}"));
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let req = Request::post(path)
        .header(HOST, authority)
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("request: {e}"))?;
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| format!("POST {uri}: {e}"))?;
    let status = resp.status();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("POST {uri}: reading the response: {e}"))?
        .to_bytes();
    if !status.is_success() {
        return Err(format!(
            "POST {uri}: {status}: {}",
            String::from_utf8_lossy(&body)
        ));
    }
    Ok(body)
}
