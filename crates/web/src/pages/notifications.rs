//! What a person is told: their choices for each kind of news, and the
//! page an unsubscribe link opens, which works without signing in (the
//! link's token is signed by the node) and answers mail clients' one-click
//! unsubscribe (RFC 8058).

use askama::Template;
use axum::extract::Path;
use axum::response::Response;
use edufed_domain::notify::Kind;
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use crate::Console;
use crate::errors::russian;
use crate::page::{Layout, Section, failure, render, t};
use crate::visitor::{Posted, Visitor};

pub(crate) fn routes() -> axum::Router<Console> {
    use axum::routing::get;
    axum::Router::new()
        .route("/account/notifications", get(show).post(save))
        .route(
            "/notifications/unsubscribe/{token}",
            get(confirm).post(unsubscribe),
        )
}

/// One kind of news and how it comes.
struct Choice {
    /// The stable name, the form field's.
    kind: String,
    label: String,
    /// `immediately`, `digest` or `off`.
    delivery: String,
}

/// The deliveries offered, as (value, label).
fn deliveries() -> Vec<(String, String)> {
    [
        pb::NotificationDelivery::Immediately,
        pb::NotificationDelivery::Digest,
        pb::NotificationDelivery::Off,
    ]
    .into_iter()
    .map(|d| {
        (
            stable(d.as_str_name(), "NOTIFICATION_DELIVERY_"),
            ru().proto_name(d.as_str_name()),
        )
    })
    .collect()
}

/// `NOTIFICATION_KIND_BOOKING_APPROVED` → `booking_approved`.
fn stable(name: &str, prefix: &str) -> String {
    name.trim_start_matches(prefix).to_ascii_lowercase()
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct Preferences {
    layout: Layout,
    /// Where the messages go; none without an address.
    email: String,
    choices: Vec<Choice>,
    deliveries: Vec<(String, String)>,
    saved: bool,
}

/// `GET /account/notifications`.
pub(crate) async fn show(visitor: Visitor) -> Response {
    page(&visitor, false).await
}

async fn page(visitor: &Visitor, saved: bool) -> Response {
    if !visitor.signed_in() {
        return render(&crate::pages::calendar::signed_out(visitor));
    }
    let chosen = match visitor
        .api()
        .notifications()
        .get_preferences(pb::GetNotificationPreferencesRequest::default())
        .await
    {
        Ok(found) => found.into_inner().preferences,
        Err(status) => return failure(&status),
    };
    // Only the news their roles bring them: a teacher is not asked about
    // agreements, nor a school's deputy about booking requests to decide.
    let choices = chosen
        .iter()
        .filter_map(|p| {
            let kind = pb::NotificationKind::try_from(p.kind).ok()?;
            let delivery = pb::NotificationDelivery::try_from(p.delivery).ok()?;
            let news =
                Kind::parse("kind", &stable(kind.as_str_name(), "NOTIFICATION_KIND_")).ok()?;
            if !visitor.may_somewhere(news.concerns()) {
                return None;
            }
            Some(Choice {
                kind: stable(kind.as_str_name(), "NOTIFICATION_KIND_"),
                label: ru().proto_name(kind.as_str_name()),
                delivery: stable(delivery.as_str_name(), "NOTIFICATION_DELIVERY_"),
            })
        })
        .collect();
    let email = visitor
        .me
        .as_ref()
        .and_then(|me| me.person.as_ref())
        .map(|p| p.email.clone())
        .unwrap_or_default();
    render(&Preferences {
        layout: Layout::new(visitor, Section::Account, t("notifications-title")),
        email,
        choices,
        deliveries: deliveries(),
        saved,
    })
}

/// `POST /account/notifications`: every kind's choice at once.
pub(crate) async fn save(posted: Posted<Vec<(String, String)>>) -> Response {
    let Posted { visitor, form } = posted;
    if !visitor.signed_in() {
        return render(&crate::pages::calendar::signed_out(&visitor));
    }
    for (field, value) in form {
        let Some(kind) = field.strip_prefix("kind.") else {
            continue;
        };
        let kind = pb::NotificationKind::from_str_name(&format!(
            "NOTIFICATION_KIND_{}",
            kind.to_ascii_uppercase()
        ));
        let delivery = pb::NotificationDelivery::from_str_name(&format!(
            "NOTIFICATION_DELIVERY_{}",
            value.to_ascii_uppercase()
        ));
        let (Some(kind), Some(delivery)) = (kind, delivery) else {
            continue;
        };
        if let Err(status) = visitor
            .api()
            .notifications()
            .set_preference(pb::SetNotificationPreferenceRequest {
                person_id: String::new(),
                kind: kind.into(),
                delivery: delivery.into(),
            })
            .await
        {
            return failure(&status);
        }
    }
    page(&visitor, true).await
}

#[derive(Template)]
#[template(path = "unsubscribe.html")]
struct Unsubscribing {
    layout: Layout,
    token: String,
    /// The kind of news, once turned off.
    done: Option<String>,
    problem: Option<String>,
}

/// `GET /notifications/unsubscribe/{token}`: a page with one button.
/// Opening the link changes nothing (mail scanners open links too).
pub(crate) async fn confirm(visitor: Visitor, Path(token): Path<String>) -> Response {
    render(&Unsubscribing {
        layout: Layout::new(&visitor, Section::None, t("unsubscribe-title")),
        token,
        done: None,
        problem: None,
    })
}

/// `POST /notifications/unsubscribe/{token}`: the button, or a mail
/// client's one-click unsubscribe. The signed token is the authority, so
/// this needs neither a session nor a form token.
pub(crate) async fn unsubscribe(visitor: Visitor, Path(token): Path<String>) -> Response {
    let answer = visitor
        .api()
        .notifications()
        .unsubscribe(pb::UnsubscribeNotificationsRequest {
            token: token.clone(),
        })
        .await;
    let (done, problem) = match answer {
        Ok(answer) => {
            let kind = pb::NotificationKind::try_from(answer.into_inner().kind)
                .map(|k| ru().proto_name(k.as_str_name()))
                .unwrap_or_default();
            (Some(kind), None)
        }
        Err(status) => (None, Some(russian(&status).message)),
    };
    render(&Unsubscribing {
        layout: Layout::new(&visitor, Section::None, t("unsubscribe-title")),
        token,
        done,
        problem,
    })
}
