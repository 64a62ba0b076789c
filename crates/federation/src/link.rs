//! How a node reaches a peer: plain HTTP on a trusted network, or TLS that
//! trusts the operator's federation CA (besides the public roots) and, for
//! mutual TLS, presents the node's own certificate.

use std::time::Duration;

use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

/// The TLS material for links to peers.
#[derive(Clone, Default)]
pub struct PeerTls {
    /// A PEM bundle of CAs trusted for peers' certificates.
    pub ca_pem: Option<Vec<u8>>,
    /// The node's certificate chain and key (PEM), presented to peers that
    /// require client certificates.
    pub identity: Option<(Vec<u8>, Vec<u8>)>,
}

impl std::fmt::Debug for PeerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerTls")
            .field("ca", &self.ca_pem.is_some())
            .field("identity", &self.identity.is_some())
            .finish()
    }
}

impl PeerTls {
    /// An endpoint for the peer at `url` (`http://` or `https://`).
    pub fn endpoint(&self, url: &str) -> Result<Endpoint, String> {
        let mut endpoint = Endpoint::from_shared(url.to_owned())
            .map_err(|_| format!("{url} is not a URL"))?
            .connect_timeout(Duration::from_secs(5));
        if url.starts_with("https://") {
            let mut tls = ClientTlsConfig::new().with_webpki_roots();
            if let Some(ca) = &self.ca_pem {
                tls = tls.ca_certificate(Certificate::from_pem(ca));
            }
            if let Some((cert, key)) = &self.identity {
                tls = tls.identity(Identity::from_pem(cert, key));
            }
            endpoint = endpoint.tls_config(tls).map_err(|e| e.to_string())?;
        }
        Ok(endpoint)
    }
}
