//! Test certificates (rcgen) and the Python stand-in process (tests/backend/standin.py).
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

pub struct Ca {
    pub cert: rcgen::Certificate,
    pub key: KeyPair,
}

pub fn ca(name: &str) -> Ca {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().unwrap();
    let cert = p.self_signed(&key).unwrap();
    Ca { cert, key }
}

/// Writes `<stem>.crt` and `<stem>.key` for `hosts`, signed by `ca`.
pub fn server_cert(dir: &Path, stem: &str, hosts: &[&str], ca: &Ca) {
    let p =
        CertificateParams::new(hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, &ca.cert, &ca.key).unwrap();
    std::fs::write(dir.join(format!("{stem}.crt")), cert.pem()).unwrap();
    std::fs::write(dir.join(format!("{stem}.key")), key.serialize_pem()).unwrap();
}

/// The stand-in process; killed on drop.
pub struct StandIn {
    child: Child,
    pub port: u16,
    log: PathBuf,
}

impl StandIn {
    pub fn start(dir: &Path, tls: Option<&str>) -> StandIn {
        StandIn::start_with(dir, tls, &[])
    }

    /// With extra stand-in options (`--api-delay-ms`, `--api-status`).
    pub fn start_with(dir: &Path, tls: Option<&str>, extra: &[&str]) -> StandIn {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/backend/standin.py");
        let tag = tls.unwrap_or("plain");
        let port_file = dir.join(format!("{tag}.port"));
        let log = dir.join(format!("{tag}.log"));
        let mut cmd = Command::new("python3");
        cmd.arg(script)
            .arg("--port-file")
            .arg(&port_file)
            .arg("--log")
            .arg(&log);
        if let Some(stem) = tls {
            cmd.arg("--cert")
                .arg(dir.join(format!("{stem}.crt")))
                .arg("--key")
                .arg(dir.join(format!("{stem}.key")));
        }
        cmd.args(extra);
        let child = cmd.spawn().expect("python3 runs the stand-in");
        let until = Instant::now() + Duration::from_secs(20);
        let port = loop {
            if let Ok(p) = std::fs::read_to_string(&port_file) {
                break p.trim().parse().unwrap();
            }
            assert!(Instant::now() < until, "stand-in did not start");
            std::thread::sleep(Duration::from_millis(20));
        };
        StandIn { child, port, log }
    }

    pub fn requests(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
