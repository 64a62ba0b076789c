//! A notification in people's terms: the records it is about read back
//! from the store (titles and names, not ids; the lessons in their local
//! times), a link to the record in the console and the signed link that
//! turns the news off; then the e-mail in Russian, or the webhook's JSON.

use std::sync::Arc;

use anyhow::Context as _;
use chrono::Datelike as _;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use edufed_domain::changes::EntityKind;
use edufed_domain::directory::OrgRef;
use edufed_domain::ids::{ActivityId, AgreementId, OrgId, ResourceId};
use edufed_domain::notify::{Channel, Unsubscribe};
use edufed_federation::identity::NodeIdentity;
use edufed_i18n::notify::{Facts, compose, compose_digest};
use edufed_i18n::ru;
use edufed_store::Store;
use edufed_store::notify::Queued;
use serde::Serialize;

use crate::mail::{Outgoing, message_id};

/// Composes notifications from the node's records.
#[derive(Clone)]
pub struct Composer {
    store: Store,
    identity: Arc<NodeIdentity>,
    public_url: String,
}

/// What the message is about, read back from the store.
struct Subject {
    /// The activity's or resource's title.
    title: String,
    /// The lessons in people's terms.
    lessons: Vec<String>,
    /// The record's page in the console.
    link: String,
    /// An agreement's last day in force.
    until: Option<String>,
}

/// What a mirrored agreement's entry says that a message needs.
#[derive(serde::Deserialize)]
struct MirroredAgreement {
    title: String,
    #[serde(default)]
    ends_at: Option<DateTime<Utc>>,
}

/// The JSON a webhook receives.
#[derive(Debug, Serialize)]
struct WebhookBody<'a> {
    /// The notification's key: the same on every attempt.
    id: &'a str,
    kind: &'a str,
    organization: String,
    entity_kind: &'a str,
    entity_id: &'a str,
    /// The activity or resource.
    about: &'a str,
    counterpart: Option<String>,
    starts: &'a [DateTime<Utc>],
    comment: Option<&'a str>,
    place: Option<u32>,
    created_at: DateTime<Utc>,
    /// The message as an e-mail would say it.
    subject: String,
    text: String,
    link: String,
}

impl Composer {
    /// A composer whose links point at `public_url`.
    pub fn new(store: Store, identity: Arc<NodeIdentity>, public_url: &str) -> Self {
        Self {
            store,
            identity,
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The link that turns `queued`'s kind of news off for its person.
    fn unsubscribe(&self, queued: &Queued) -> Option<String> {
        let person = queued.person_id.clone()?;
        let token = Unsubscribe {
            person,
            kind: queued.kind,
        }
        .token(|m| self.identity.sign(m));
        Some(format!(
            "{}/notifications/unsubscribe/{token}",
            self.public_url
        ))
    }

    /// The payload of a peer's record this node mirrors.
    async fn mirrored<T: serde::de::DeserializeOwned>(
        &self,
        kind: EntityKind,
        id: &str,
    ) -> anyhow::Result<T> {
        let mirror = self
            .store
            .get_mirror(kind, id)
            .await?
            .context("neither kept nor mirrored here")?;
        Ok(serde_json::from_str(&mirror.entry.payload)?)
    }

    /// The organization's name as people read it.
    async fn org_name(&self, org: &OrgId) -> String {
        match self.store.get_organization(&OrgRef::Id(org.clone())).await {
            Ok(found) => found.short_name,
            Err(_) => org.to_string(),
        }
    }

    /// The zone of `org`, where its people read times; UTC if unknown.
    async fn org_zone(&self, org: &OrgId) -> Option<Tz> {
        self.store
            .get_organization(&OrgRef::Id(org.clone()))
            .await
            .ok()
            .map(|o| o.time_zone.tz())
    }

    /// The activity or resource `queued` is about.
    async fn subject(&self, queued: &Queued, viewer: Option<Tz>) -> anyhow::Result<Subject> {
        let detail = &queued.detail;
        match queued.entity_kind {
            EntityKind::Registration => {
                let id = ActivityId::from_stored(detail.about.clone());
                let (activity, occurrences) = match self.store.get_activity(&id).await {
                    Ok(found) => (
                        found.activity,
                        found.occurrences.into_iter().map(|(o, _)| o).collect(),
                    ),
                    // A peer's activity this node mirrors but does not
                    // show in its calendar.
                    Err(error) => {
                        let activity = self
                            .mirrored::<edufed_domain::calendar::Activity>(
                                EntityKind::Activity,
                                &id.to_string(),
                            )
                            .await
                            .with_context(|| format!("activity {id}: {error}"))?;
                        let occurrences = activity.occurrences().unwrap_or_default();
                        (activity, occurrences)
                    }
                };
                let zone = activity.details.schedule.time_zone.tz();
                let all_day = activity.details.schedule.all_day;
                let now = self.store.clock().now();
                // The one lesson registered for, or the next of the series.
                let lesson = match detail.starts.first() {
                    Some(key) => occurrences
                        .iter()
                        .find(|o| o.original_start == *key)
                        .map(|o| o.start)
                        .or(Some(*key)),
                    None => occurrences
                        .iter()
                        .find(|o| o.start >= now && !o.cancelled)
                        .or(occurrences.first())
                        .map(|o| o.start),
                };
                let lessons = lesson
                    .map(|at| {
                        if all_day {
                            ru().all_day(at, zone)
                        } else {
                            ru().instant(at, zone, viewer)
                        }
                    })
                    .into_iter()
                    .collect();
                Ok(Subject {
                    title: activity.details.title.clone(),
                    lessons,
                    link: format!("{}/activities/{id}", self.public_url),
                    until: None,
                })
            }
            EntityKind::Booking => {
                let id = ResourceId::from_stored(detail.about.clone());
                let resource = match self.store.get_resource(&id).await {
                    Ok(resource) => resource,
                    // A peer's resource this node mirrors.
                    Err(error) => self
                        .mirrored::<edufed_domain::booking::Resource>(
                            EntityKind::Resource,
                            &id.to_string(),
                        )
                        .await
                        .with_context(|| format!("resource {id}: {error}"))?,
                };
                let zone = resource.details.time_zone.tz();
                Ok(Subject {
                    title: resource.details.name.clone(),
                    lessons: detail
                        .starts
                        .iter()
                        .map(|at| ru().instant(*at, zone, viewer))
                        .collect(),
                    link: format!("{}/bookings/{}", self.public_url, queued.entity_id),
                    until: detail.until.map(|at| ru().instant(at, zone, viewer)),
                })
            }
            EntityKind::Activity => {
                let id = ActivityId::from_stored(detail.about.clone());
                let found = self
                    .store
                    .get_activity(&id)
                    .await
                    .with_context(|| format!("activity {id}"))?;
                let schedule = &found.activity.details.schedule;
                let zone = schedule.time_zone.tz();
                Ok(Subject {
                    title: found.activity.details.title.clone(),
                    lessons: detail
                        .starts
                        .iter()
                        .map(|at| {
                            if schedule.all_day {
                                ru().all_day(*at, zone)
                            } else {
                                ru().instant(*at, zone, viewer)
                            }
                        })
                        .collect(),
                    link: format!("{}/activities/{id}", self.public_url),
                    until: None,
                })
            }
            EntityKind::Agreement => {
                let id = AgreementId::from_stored(detail.about.clone());
                let (title, zone, ends_at) = match self.store.get_agreement(&id).await {
                    Ok(agreement) => (
                        agreement
                            .effective()
                            .map(|v| v.content.title.clone())
                            .unwrap_or_default(),
                        agreement.time_zone.tz(),
                        agreement.lifecycle.ends_at(),
                    ),
                    // A peer's agreement this node mirrors: its entry says
                    // the title and the end; days read in this node's zone
                    // of the party told.
                    Err(error) => {
                        let mirrored = self
                            .mirrored::<MirroredAgreement>(EntityKind::Agreement, &id.to_string())
                            .await
                            .with_context(|| format!("agreement {id}: {error}"))?;
                        (
                            mirrored.title,
                            viewer.unwrap_or(chrono_tz::UTC),
                            mirrored.ends_at,
                        )
                    }
                };
                // The last day in force: the day before the first instant
                // no longer in force.
                let until = detail.starts.first().copied().or(ends_at).map(|end| {
                    let last = (end - chrono::Duration::seconds(1))
                        .with_timezone(&zone)
                        .date_naive();
                    format!("{} {}", ru().day(last), last.year())
                });
                Ok(Subject {
                    title,
                    lessons: Vec::new(),
                    link: format!("{}/agreements/{id}", self.public_url),
                    until,
                })
            }
            other => anyhow::bail!("no message for news of a {}", other.as_str()),
        }
    }

    /// The facts of `queued`'s message.
    async fn facts(&self, queued: &Queued) -> anyhow::Result<(Facts, Subject)> {
        let viewer = self.org_zone(&queued.org_id).await;
        let subject = self.subject(queued, viewer).await?;
        let counterpart = match &queued.detail.counterpart {
            Some(org) => self.org_name(org).await,
            None => String::new(),
        };
        let facts = Facts {
            activity: subject.title.clone(),
            resource: subject.title.clone(),
            agreement: subject.title.clone(),
            days: queued.detail.horizon_days,
            until: subject.until.clone(),
            counterpart,
            place: queued.detail.place,
            lessons: subject.lessons.clone(),
            comment: queued.detail.comment.clone(),
            link: Some(subject.link.clone()),
            unsubscribe: self
                .unsubscribe(queued)
                .unwrap_or_else(|| format!("{}/account/notifications", self.public_url)),
        };
        Ok((facts, subject))
    }

    /// The e-mail of `queued`, its `Message-ID` under `host`.
    pub async fn email(&self, queued: &Queued, host: &str) -> anyhow::Result<Outgoing> {
        let (facts, _) = self.facts(queued).await?;
        let message = compose(queued.kind, &facts);
        Ok(Outgoing {
            to: queued.address.clone(),
            subject: message.subject,
            text: message.text,
            html: message.html,
            message_id: message_id(&queued.key, host),
            unsubscribe: self.unsubscribe(queued),
        })
    }

    /// One person's daily digest of `items` (all to the same address),
    /// its `Message-ID` under `host` made from their keys. News about a
    /// record gone since is left out.
    pub async fn digest(&self, items: &[Queued], host: &str) -> anyhow::Result<Outgoing> {
        let first = items.first().context("an empty digest")?;
        let mut news = Vec::new();
        for queued in items {
            match self.facts(queued).await {
                Ok((facts, _)) => news.push((queued.kind, facts)),
                Err(error) => tracing::warn!(
                    key = %queued.key,
                    error = %format_args!("{error:#}"),
                    "news left out of a digest"
                ),
            }
        }
        let settings = format!("{}/account/notifications", self.public_url);
        let message = compose_digest(&news, &settings);
        let mut keys: Vec<&str> = items.iter().map(|q| q.key.as_str()).collect();
        keys.sort_unstable();
        Ok(Outgoing {
            to: first.address.clone(),
            subject: message.subject,
            text: message.text,
            html: message.html,
            message_id: message_id(&format!("digest:{}", keys.join(",")), host),
            unsubscribe: None,
        })
    }

    /// The JSON body posted to a webhook for `queued`.
    pub async fn webhook_body(&self, queued: &Queued) -> anyhow::Result<Vec<u8>> {
        debug_assert_eq!(queued.channel, Channel::Webhook);
        let (facts, subject) = self.facts(queued).await?;
        let message = compose(queued.kind, &facts);
        let body = WebhookBody {
            id: &queued.key,
            kind: queued.kind.as_str(),
            organization: queued.org_id.to_string(),
            entity_kind: queued.entity_kind.as_str(),
            entity_id: &queued.entity_id,
            about: &queued.detail.about,
            counterpart: queued.detail.counterpart.as_ref().map(ToString::to_string),
            starts: &queued.detail.starts,
            comment: queued.detail.comment.as_deref(),
            place: queued.detail.place,
            created_at: queued.created_at,
            subject: message.subject,
            text: message.text,
            link: subject.link,
        };
        Ok(serde_json::to_vec(&body)?)
    }
}
