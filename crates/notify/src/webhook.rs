//! Webhooks: each notification for an organization posted as JSON to its
//! URL, signed as GitHub and Stripe sign theirs: HMAC-SHA256 under the
//! organization's secret over the timestamp, a dot and the body, so the
//! receiver can check who sent it and refuse a replay.

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac as _};
use sha2::Sha256;

/// The header with the signature: `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "X-Edufed-Signature";
/// The header with the time of sending, in Unix seconds, that is signed
/// with the body.
pub const TIMESTAMP_HEADER: &str = "X-Edufed-Timestamp";
/// The header with the notification's key: the same on every attempt, for
/// the receiver to drop a repeat.
pub const DELIVERY_HEADER: &str = "X-Edufed-Delivery";

/// The signature of `body` sent at `timestamp` (Unix seconds) under
/// `secret`: `sha256=` and the hex of HMAC-SHA256 over `<timestamp>.<body>`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Posts notifications to webhooks.
#[derive(Debug, Clone)]
pub struct Webhooks {
    client: reqwest::Client,
}

impl Webhooks {
    /// A client that gives up on a receiver after `timeout`.
    pub fn new(timeout: std::time::Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("edufed/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot build the webhook client")?;
        Ok(Self { client })
    }

    /// Posts `body` to `url`, signed with `secret` at `now`. Any answer
    /// but 2xx is a failure to retry.
    pub async fn post(
        &self,
        url: &str,
        secret: &str,
        key: &str,
        body: Vec<u8>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let timestamp = now.timestamp();
        let response = self
            .client
            .post(url)
            .header("Content-Type", "application/json")
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature(secret, timestamp, &body))
            .header(DELIVERY_HEADER, key)
            .body(body)
            .send()
            .await
            .with_context(|| format!("cannot reach the webhook {url}"))?;
        let status = response.status();
        if !status.is_success() {
            bail!("the webhook {url} answered {status}");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_the_timestamp_and_the_body() {
        let a = signature("s3cret", 1_790_000_000, b"{}");
        assert!(a.starts_with("sha256=") && a.len() == 7 + 64);
        assert_ne!(a, signature("s3cret", 1_790_000_001, b"{}"));
        assert_ne!(a, signature("s3cret", 1_790_000_000, b"{ }"));
        assert_ne!(a, signature("other", 1_790_000_000, b"{}"));
        // RFC 4231 test case 2, with the timestamp and dot as the message's head.
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
