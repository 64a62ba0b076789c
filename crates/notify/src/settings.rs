//! How a node tells people: its mail server and how long it keeps trying.

use std::time::Duration;

/// How the connection to the mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain text, for a relay on the same machine or a test sink.
    None,
    /// Plain text upgraded with STARTTLS (port 587), which must succeed.
    StartTls,
    /// TLS from the first byte (port 465).
    Implicit,
}

impl TlsMode {
    /// Reads `none`, `starttls` or `tls`.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "none" => Some(Self::None),
            "starttls" => Some(Self::StartTls),
            "tls" => Some(Self::Implicit),
            _ => None,
        }
    }
}

/// The mail server and the sender's addresses.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    /// The login, when the server asks for one.
    pub username: Option<String>,
    /// Its password, read from a file or the environment; never logged.
    pub password: Option<String>,
    /// `From:`, e.g. «edufed ТУСУР <edufed@tusur.ru>».
    pub from: String,
    /// `Reply-To:`, e.g. the coordinators' shared address.
    pub reply_to: Option<String>,
    /// The longest one SMTP conversation may take.
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "…"))
            .field("from", &self.from)
            .field("reply_to", &self.reply_to)
            .finish()
    }
}

/// Everything the notifier and the sender need.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The mail server; without one, e-mail waits in the outbox.
    pub smtp: Option<SmtpSettings>,
    /// Where the node's console is reached, for links in messages.
    pub public_url: String,
    /// How long a notification is retried before it is given up.
    pub give_up_after: chrono::Duration,
    /// How often the sender looks for retries come due.
    pub poll: Duration,
    /// How long a sender holds the notifications it took: another replica
    /// (or this one, restarted) tries them again after it.
    pub lease: chrono::Duration,
    /// How many messages are sent at once.
    pub concurrency: usize,
}
