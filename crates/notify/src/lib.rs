//! Telling people what happened to their records. The [`Notifier`]
//! follows the node's own change log from a stored cursor and writes the
//! news it means to the outbox, in the same transaction as the cursor; the
//! [`Sender`] claims what is due, composes each message in Russian from
//! the records it is about, and delivers it by e-mail (SMTP) or to the
//! organization's webhook (a JSON post signed with HMAC-SHA256), retrying
//! with backoff until it gives up. Writes never wait for either: a dead
//! mail server only grows the outbox.

mod compose;
mod mail;
mod settings;
mod test_delivery;
mod webhook;
mod workers;

pub use compose::Composer;
pub use mail::{Mailer, Outgoing, message_id};
pub use settings::{Settings, SmtpSettings, TlsMode};
pub use test_delivery::Tester;
pub use webhook::{SIGNATURE_HEADER, TIMESTAMP_HEADER, Webhooks, signature};
pub use workers::{Notifier, Reminders, Sender};
