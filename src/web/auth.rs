//! Dashboard access: the listen-address rule (loopback by default; anything else needs a
//! token or basic-auth file), credential loading, and the checks the middleware applies.

use crate::config::Dashboard;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// What a request must present (`None`: nothing; loopback without configured credentials).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Auth {
    /// `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// `Authorization: Basic base64(user:password)`, stored encoded.
    pub basic: Option<String>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth").field("token", &self.token.is_some()).field("basic", &self.basic.is_some()).finish()
    }
}

/// Why the dashboard cannot start.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("dashboard listen address {0:?} is not IP:PORT (e.g. 127.0.0.1:8480)")]
    BadListen(String),
    #[error(
        "dashboard listens on {0}, which is not loopback: set [dashboard] token-file or basic-auth-file, \
         or listen on 127.0.0.1"
    )]
    NeedsAuth(SocketAddr),
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{0} is empty")]
    Empty(String),
    #[error("{0} must hold one line user:password")]
    BadBasic(String),
}

/// Parse the listen address (`localhost:PORT` is 127.0.0.1).
pub fn listen_addr(listen: &str) -> Result<SocketAddr, AuthError> {
    let s = listen.trim();
    if let Some(port) = s.strip_prefix("localhost:") {
        let port: u16 = port.parse().map_err(|_| AuthError::BadListen(listen.into()))?;
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    s.parse().map_err(|_| AuthError::BadListen(listen.into()))
}

impl Auth {
    pub fn is_required(&self) -> bool {
        self.token.is_some() || self.basic.is_some()
    }

    /// Load credentials from the config and apply the listen rule.
    pub fn from_config(cfg: &Dashboard) -> Result<(SocketAddr, Auth), AuthError> {
        let addr = listen_addr(&cfg.listen)?;
        let read = |p: &std::path::Path| {
            let t = std::fs::read_to_string(p)
                .map_err(|source| AuthError::Read { path: p.display().to_string(), source })?;
            let t = t.trim().to_string();
            if t.is_empty() {
                return Err(AuthError::Empty(p.display().to_string()));
            }
            Ok(t)
        };
        let mut auth = Auth::default();
        if let Some(p) = &cfg.token_file {
            auth.token = Some(read(p)?);
        }
        if let Some(p) = &cfg.basic_auth_file {
            let t = read(p)?;
            if t.lines().count() != 1 || !t.contains(':') {
                return Err(AuthError::BadBasic(p.display().to_string()));
            }
            auth.basic = Some(base64(t.as_bytes()));
        }
        if !addr.ip().is_loopback() && !auth.is_required() {
            return Err(AuthError::NeedsAuth(addr));
        }
        Ok((addr, auth))
    }

    /// Whether an `Authorization` header value grants access.
    pub fn allows(&self, header: Option<&str>) -> bool {
        if !self.is_required() {
            return true;
        }
        let Some(h) = header.map(str::trim) else { return false };
        let (scheme, value) = h.split_once(' ').unwrap_or((h, ""));
        let value = value.trim();
        match (scheme.to_ascii_lowercase().as_str(), &self.token, &self.basic) {
            ("bearer", Some(t), _) => ct_eq(value.as_bytes(), t.as_bytes()),
            ("basic", _, Some(b)) => ct_eq(value.as_bytes(), b.as_bytes()),
            _ => false,
        }
    }

    /// The `WWW-Authenticate` challenge.
    pub fn challenge(&self) -> &'static str {
        if self.basic.is_some() {
            "Basic realm=\"entrywatch\", charset=\"UTF-8\""
        } else {
            "Bearer realm=\"entrywatch\""
        }
    }
}

/// Compare without an early exit on the first differing byte.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for (i, x) in b.iter().enumerate() {
        diff |= x ^ a.get(i).copied().unwrap_or(0);
    }
    diff == 0
}

/// Standard base64 with padding (RFC 4648), for the Basic credentials.
pub fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_rfc4648_vectors() {
        for (i, o) in
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE=")]
        {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn header_checks() {
        let a = Auth { token: Some("s3cret".into()), basic: Some(base64(b"ann:pw")) };
        assert!(a.allows(Some("Bearer s3cret")));
        assert!(a.allows(Some("bearer s3cret")));
        assert!(!a.allows(Some("Bearer s3cre")));
        assert!(!a.allows(Some("Bearer s3cretX")));
        assert!(a.allows(Some("Basic YW5uOnB3")));
        assert!(!a.allows(Some("Basic YW5uOnB4")));
        assert!(!a.allows(None));
        assert!(Auth::default().allows(None));
    }

    #[test]
    fn non_loopback_needs_credentials() {
        let cfg = Dashboard { listen: "0.0.0.0:8480".into(), ..Dashboard::default() };
        assert!(matches!(Auth::from_config(&cfg), Err(AuthError::NeedsAuth(_))));
        let cfg = Dashboard { listen: "[::]:8480".into(), ..Dashboard::default() };
        assert!(matches!(Auth::from_config(&cfg), Err(AuthError::NeedsAuth(_))));
        let cfg = Dashboard { listen: "localhost:8480".into(), ..Dashboard::default() };
        assert!(Auth::from_config(&cfg).unwrap().0.ip().is_loopback());
        let cfg = Dashboard { listen: "nonsense".into(), ..Dashboard::default() };
        assert!(matches!(Auth::from_config(&cfg), Err(AuthError::BadListen(_))));
    }
}
