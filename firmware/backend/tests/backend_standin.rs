//! The client against the Python stand-in (tests/backend/standin.py: Python's own HTTP server
//! and OpenSSL-backed TLS, in a separate process on loopback), with test certificates made
//! here: a CA that signed `his.local`, and an unrelated CA that signed `bank.local`.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{ca, server_cert, StandIn};
use yingda_backend::{event, Backend, BackendConfig, BackendError};
use yingda_flow::interp::{Event, HttpRequest};

/// Two CAs, a `his.local` server signed by the first and a `bank.local` server signed by
/// the second, both served over TLS; the first CA is the box's bundle.
struct World {
    dir: tempfile::TempDir,
    his: StandIn,
    bank: StandIn,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let ca1 = ca("Yingda Test CA");
    let ca2 = ca("Unrelated CA");
    std::fs::write(dir.path().join("ca1.pem"), ca1.cert.pem()).unwrap();
    std::fs::write(dir.path().join("ca2.pem"), ca2.cert.pem()).unwrap();
    std::fs::write(
        dir.path().join("bundle.pem"),
        format!("{}{}", ca1.cert.pem(), ca2.cert.pem()),
    )
    .unwrap();
    server_cert(dir.path(), "his", &["his.local"], &ca1);
    server_cert(dir.path(), "bank", &["bank.local"], &ca2);
    let his = StandIn::start(dir.path(), Some("his"));
    let bank = StandIn::start(dir.path(), Some("bank"));
    World { dir, his, bank }
}

impl World {
    fn path(&self, f: &str) -> PathBuf {
        self.dir.path().join(f)
    }

    /// his.local and bank.local resolved to their stand-ins; `bundle` trusted.
    fn config(&self, bundle: &str) -> BackendConfig {
        let mut resolve = BTreeMap::new();
        for (host, s) in [("his.local", &self.his), ("bank.local", &self.bank)] {
            resolve.insert(
                (host.to_string(), 8443),
                SocketAddr::from(([127, 0, 0, 1], s.port)),
            );
        }
        BackendConfig {
            ca_bundle: self.path(bundle),
            resolve,
            ..BackendConfig::default()
        }
    }
}

fn req(method: &str, url: &str, body: Option<&str>, timeout_ms: u64) -> HttpRequest {
    HttpRequest {
        id: 7,
        method: method.into(),
        url: url.into(),
        headers: vec![("X-Line".into(), "hospital".into())],
        body: body.map(String::from),
        timeout_ms,
        secret: false,
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn get_and_post_over_tls_with_a_resolve_override() {
    let w = world();
    let b = Backend::new(w.config("ca1.pem")).unwrap();
    let rt = rt();
    let r = rt
        .block_on(b.send(&req("GET", "https://his.local:8443/echo?x=1", None, 5000)))
        .unwrap();
    assert_eq!(r.status, 200);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["host"], "his.local:8443");
    let r = rt
        .block_on(b.send(&req(
            "POST",
            "https://his.local:8443/echo",
            Some(r#"{"dept":"口腔科"}"#),
            5000,
        )))
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["body"], r#"{"dept":"口腔科"}"#);
    assert_eq!(v["content_type"], "application/json");
    let seen = w.his.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1]["method"], "POST");
}

#[test]
fn error_statuses_are_replies_and_redirects_are_not_followed() {
    let w = world();
    let b = Backend::new(w.config("ca1.pem")).unwrap();
    let rt = rt();
    for code in [404u16, 500, 503] {
        let r = rt
            .block_on(b.send(&req(
                "GET",
                &format!("https://his.local:8443/status/{code}"),
                None,
                5000,
            )))
            .unwrap();
        assert_eq!(r.status, code);
    }
    let r = rt
        .block_on(b.send(&req("GET", "https://his.local:8443/redirect", None, 5000)))
        .unwrap();
    assert_eq!(r.status, 302);
    assert_eq!(
        w.his.requests().len(),
        4,
        "the redirect target was not requested"
    );
}

#[test]
fn the_deadline_covers_the_whole_exchange() {
    let w = world();
    let b = Backend::new(w.config("ca1.pem")).unwrap();
    let t = Instant::now();
    let e = rt()
        .block_on(b.send(&req("GET", "https://his.local:8443/delay/5000", None, 300)))
        .unwrap_err();
    assert!(matches!(e, BackendError::Timeout { ms: 300, .. }), "{e}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
}

#[test]
fn an_untrusted_certificate_is_refused() {
    let w = world();
    // bank.local is signed by the unrelated CA, which the box does not trust.
    let b = Backend::new(w.config("ca1.pem")).unwrap();
    let e = rt()
        .block_on(b.send(&req("GET", "https://bank.local:8443/echo", None, 5000)))
        .unwrap_err();
    assert!(matches!(e, BackendError::Tls { .. }), "{e}");
    assert!(w.bank.requests().is_empty());
}

#[test]
fn a_pinned_ca_is_the_only_one_trusted_for_its_host() {
    let w = world();
    // Both CAs in the bundle; his.local pinned to the unrelated CA: its real certificate
    // (from the first CA) is refused although the bundle trusts that CA.
    let mut cfg = w.config("bundle.pem");
    cfg.pinned.insert("his.local".into(), w.path("ca2.pem"));
    cfg.pinned.insert("bank.local".into(), w.path("ca2.pem"));
    let b = Backend::new(cfg).unwrap();
    let rt = rt();
    let e = rt
        .block_on(b.send(&req("GET", "https://his.local:8443/echo", None, 5000)))
        .unwrap_err();
    assert!(matches!(e, BackendError::Tls { .. }), "{e}");
    let r = rt
        .block_on(b.send(&req("GET", "https://bank.local:8443/echo", None, 5000)))
        .unwrap();
    assert_eq!(r.status, 200);
}

#[test]
fn a_certificate_for_another_name_is_refused() {
    let w = world();
    // The his.local certificate served under the name bank.local.
    let mut cfg = w.config("bundle.pem");
    cfg.resolve.insert(
        ("bank.local".into(), 8443),
        SocketAddr::from(([127, 0, 0, 1], w.his.port)),
    );
    let b = Backend::new(cfg).unwrap();
    let e = rt()
        .block_on(b.send(&req("GET", "https://bank.local:8443/echo", None, 5000)))
        .unwrap_err();
    assert!(matches!(e, BackendError::Tls { .. }), "{e}");
}

#[test]
fn oversized_non_utf8_closed_and_refused_are_errors() {
    let w = world();
    let mut cfg = w.config("ca1.pem");
    cfg.max_response_bytes = 1000;
    let b = Backend::new(cfg).unwrap();
    let rt = rt();
    let send = |url: &str| rt.block_on(b.send(&req("GET", url, None, 5000)));
    assert!(send("https://his.local:8443/big/999").is_ok());
    assert!(matches!(
        send("https://his.local:8443/big/1001"),
        Err(BackendError::TooLarge { limit: 1000, .. })
    ));
    assert!(matches!(
        send("https://his.local:8443/latin1"),
        Err(BackendError::NotUtf8 { .. })
    ));
    assert!(matches!(
        send("https://his.local:8443/close"),
        Err(BackendError::Http { .. })
    ));
    // Nothing listens on port 1.
    assert!(matches!(
        send("http://127.0.0.1:1/echo"),
        Err(BackendError::Connect { .. })
    ));
}

#[test]
fn plain_http_works_and_bad_requests_are_refused_before_sending() {
    let w = world();
    let plain = StandIn::start(w.dir.path(), None);
    let b = Backend::new(w.config("ca1.pem")).unwrap();
    let rt = rt();
    let r = rt
        .block_on(b.send(&req(
            "PUT",
            &format!("http://127.0.0.1:{}/echo", plain.port),
            Some("{}"),
            5000,
        )))
        .unwrap();
    assert_eq!(r.status, 200);
    for (method, url) in [
        ("PATCH", "https://his.local:8443/echo"),
        ("GET", "ftp://his.local/echo"),
        ("GET", "not a url"),
        ("GET", "https://user:pw@his.local:8443/echo"),
    ] {
        assert!(
            rt.block_on(b.send(&req(method, url, None, 5000))).is_err(),
            "{method} {url}"
        );
    }
    assert_eq!(w.his.requests().len(), 0);
}

#[test]
fn errors_never_carry_the_path_query_or_body() {
    let w = world();
    let b = Backend::new(w.config("ca1.pem")).unwrap();
    let mut r = req(
        "POST",
        "https://his.local:8443/delay/5000?pin=123456",
        Some(r#"{"pin":"123456"}"#),
        200,
    );
    r.secret = true;
    let out = event(7, 99, rt().block_on(b.send(&r)));
    let Event::HttpFailed { id, at_ms, error } = out else {
        panic!("{out:?}");
    };
    assert_eq!((id, at_ms), (7, 99));
    assert!(error.contains("his.local:8443"), "{error}");
    assert!(
        !error.contains("123456") && !error.contains("delay"),
        "{error}"
    );
}

#[test]
fn a_bad_ca_file_is_reported_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.pem"), "").unwrap();
    for f in ["missing.pem", "empty.pem"] {
        let e = Backend::new(BackendConfig {
            ca_bundle: dir.path().join(f),
            ..BackendConfig::default()
        })
        .unwrap_err();
        assert!(e.to_string().contains(f), "{e}");
    }
}
