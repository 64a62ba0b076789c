//! E-mail over SMTP with lettre: STARTTLS or implicit TLS, a login when
//! the server wants one, and a stable `Message-ID` per notification so a
//! retried send is the same message in a mailbox, not a second one.

use anyhow::Context as _;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use sha2::{Digest as _, Sha256};

use crate::settings::{SmtpSettings, TlsMode};

/// A composed e-mail.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The same for every attempt at one notification.
    pub message_id: String,
    /// The link that turns this news off, for `List-Unsubscribe`.
    pub unsubscribe: Option<String>,
}

/// The `Message-ID` of the notification `key`, under the node's `host`:
/// the same for every attempt.
pub fn message_id(key: &str, host: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    format!("<{}@{host}>", hex::encode(&digest[..16]))
}

/// Sends e-mail through one mail server.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    reply_to: Option<Mailbox>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer for `settings`; refuses addresses that do not parse.
    pub fn new(settings: &SmtpSettings) -> anyhow::Result<Self> {
        let builder = match settings.tls {
            TlsMode::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            }
            TlsMode::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.host)
                    .context("smtp_host")?
            }
            TlsMode::Implicit => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(&settings.host).context("smtp_host")?
            }
        };
        let mut builder = builder.port(settings.port).timeout(Some(settings.timeout));
        if let Some(user) = &settings.username {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                settings.password.clone().unwrap_or_default(),
            ));
        }
        let from: Mailbox = settings
            .from
            .parse()
            .with_context(|| format!("mail_from {:?} is not an address", settings.from))?;
        let reply_to = settings
            .reply_to
            .as_deref()
            .map(|r| {
                r.parse::<Mailbox>()
                    .with_context(|| format!("mail_reply_to {r:?} is not an address"))
            })
            .transpose()?;
        Ok(Self {
            transport: builder.build(),
            from,
            reply_to,
        })
    }

    /// The host part of the sender's address, for message ids.
    pub fn host(&self) -> String {
        self.from.email.domain().to_owned()
    }

    /// Sends `mail`; the error says what the server or the address refused.
    pub async fn send(&self, mail: &Outgoing) -> anyhow::Result<()> {
        let to: Mailbox = mail
            .to
            .parse()
            .with_context(|| format!("{:?} is not an e-mail address", mail.to))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(mail.message_id.clone()))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".into(),
            ));
        if let Some(reply_to) = &self.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        if let Some(link) = &mail.unsubscribe {
            // RFC 8058: mail clients offer a one-click button that posts here.
            builder = builder
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe"),
                    format!("<{link}>"),
                ))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".into(),
                ));
        }
        let message = builder
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .context("cannot build the message")?;
        self.transport
            .send(message)
            .await
            .context("the mail server refused the message")?;
        Ok(())
    }
}
