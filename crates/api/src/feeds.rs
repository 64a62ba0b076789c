//! iCalendar feeds of activities and of resources' busy time, as the HTTP
//! side serves them: what a feed shows is decided here, through the
//! policy, like any call's answer; the server only maps paths and errors.

use std::collections::HashMap;

use edufed_domain::calendar::{ActivityKind, Direction, FeedFilter, Format, Viewer, ics};
use edufed_domain::ids::{ActivityId, OrgId, ResourceId};
use edufed_domain::policy::{Action, Principal, Target, authorize};
use edufed_domain::{ErrorCode, FieldError, ServiceError, text};

use crate::context::Context;
use crate::convert::org_ref;
use crate::status::ApiError;

/// Which activities a feed shows.
#[derive(Debug, Clone)]
pub enum Scope {
    /// The whole network's, as the viewer may see them.
    Network,
    /// One organization's, by slug or id (the file name).
    Organization(String),
    /// One activity, by id (the file name).
    Activity(String),
}

/// A feed that is not there: the same answer for what does not exist and
/// what the key may not see, to give nothing away.
#[derive(Debug, thiserror::Error)]
#[error("no such {0}")]
pub struct Missing(pub &'static str);

impl ServiceError for Missing {
    fn error_code(&self) -> ErrorCode {
        ErrorCode::NotFound
    }
}

/// A feed: its calendar's name and its iCalendar text.
#[derive(Debug, Clone)]
pub struct Feed {
    /// The calendar's name.
    pub name: String,
    /// RFC 5545 text.
    pub body: String,
}

/// The feeds of the node `ctx` describes.
#[derive(Debug, Clone)]
pub struct Feeds {
    ctx: Context,
}

impl Feeds {
    /// The feeds of the node `ctx` describes.
    pub fn new(ctx: Context) -> Self {
        Self { ctx }
    }

    /// Whose feed a private key opens: its token's person. Public feeds
    /// have no key.
    async fn caller(&self, key: Option<&str>) -> Result<Option<Principal>, ApiError> {
        match key {
            None => Ok(None),
            // Revoked, expired or unknown: the same answer.
            Some(key) => match self.ctx.store.authenticate_feed(key).await {
                Ok(principal) => Ok(Some(principal)),
                Err(_) => Err(Missing("feed").into()),
            },
        }
    }

    /// The activities of `scope` the key's person (or anyone, without a
    /// key) may see, filtered by `params` (grade, kind, direction, format,
    /// subject, publisher).
    pub async fn activities(
        &self,
        key: Option<&str>,
        scope: &Scope,
        params: &HashMap<String, String>,
    ) -> Result<Feed, ApiError> {
        let store = &self.ctx.store;
        let caller = self.caller(key).await?;
        let mut filter = filter_from(params)?;
        if let Some(publisher) = params.get("publisher").filter(|p| !p.trim().is_empty()) {
            let org = store
                .get_organization(&org_ref("publisher", publisher)?)
                .await
                .map_err(|_| Missing("publisher"))?;
            filter.publisher = Some(org.id);
        }
        let name = match scope {
            Scope::Network => "edufed".to_owned(),
            Scope::Organization(file) => {
                let raw = file.strip_suffix(".ics").unwrap_or(file);
                let reference =
                    org_ref("organization", raw).map_err(|_| Missing("organization"))?;
                let org = store
                    .get_organization(&reference)
                    .await
                    .map_err(|_| Missing("organization"))?;
                filter.publisher = Some(org.id);
                org.short_name
            }
            Scope::Activity(file) => {
                let raw = file.strip_suffix(".ics").unwrap_or(file);
                let id = ActivityId::parse("activity", raw).map_err(|_| Missing("activity"))?;
                filter.activity = Some(id);
                "edufed".to_owned()
            }
        };
        let activities = store
            .feed_activities(&filter, &Viewer::of(caller.as_ref()))
            .await?;
        let name = match (scope, activities.first()) {
            (Scope::Activity(_), Some(entry)) => entry.activity.details.title.clone(),
            (Scope::Activity(_), None) => return Err(Missing("activity").into()),
            _ => name,
        };
        let names = |key: &str| edufed_i18n::ru().text(key);
        let body = ics::render(&name, &activities, store.clock().now(), &names);
        Ok(Feed { name, body })
    }

    /// A resource's busy time over the past month and the coming year:
    /// plain "busy" for everyone; what and for whom, for those who may see
    /// the owner's or the requester's bookings (through a private URL). A
    /// resource not open to the whole network is shown only to its owner.
    pub async fn resource(&self, key: Option<&str>, file: &str) -> Result<Feed, ApiError> {
        let store = &self.ctx.store;
        let caller = self.caller(key).await?;
        let raw = file.strip_suffix(".ics").unwrap_or(file);
        let id = ResourceId::parse("resource", raw).map_err(|_| Missing("resource"))?;
        let resource = store
            .get_resource(&id)
            .await
            .map_err(|_| Missing("resource"))?;
        let sees = |org: &OrgId| {
            caller.as_ref().is_some_and(|p| {
                authorize(p, Action::ViewBookings, Target::Organization(org)).is_ok()
            })
        };
        let open = resource.details.access == edufed_domain::booking::Access::Network;
        if !open && !sees(&resource.owner) {
            return Err(Missing("resource").into());
        }
        let now = store.clock().now();
        let listed = store
            .list_bookings(
                Some(&resource.id),
                None,
                now - chrono::Duration::days(31),
                now + chrono::Duration::days(366),
                true,
            )
            .await?;
        let busy: Vec<_> = listed
            .iter()
            .filter(|l| {
                l.occurrence.state.blocks()
                    && l.occurrence.hold_expires_at.is_none_or(|until| until > now)
            })
            .map(|l| ics::BusyEntry {
                uid: format!("{}-{}", l.booking.id, l.occurrence.start.timestamp()),
                start: l.occurrence.start,
                end: l.occurrence.end,
                details: (sees(&resource.owner) || sees(&l.booking.requester_org))
                    .then(|| format!("{} ({} people)", l.booking.purpose, l.booking.headcount)),
            })
            .collect();
        Ok(Feed {
            body: ics::render_busy(&resource.details.name, &busy, now),
            name: resource.details.name,
        })
    }
}

impl Feeds {
    /// A route's calendar over its school year: each occurrence of its
    /// chosen items, for those the key's person may see the school's
    /// routes.
    pub async fn route(&self, key: &str, file: &str) -> Result<Feed, ApiError> {
        let store = &self.ctx.store;
        let caller = self.caller(Some(key)).await?.ok_or(Missing("route"))?;
        let raw = file.strip_suffix(".ics").unwrap_or(file);
        let id = edufed_domain::ids::RouteId::parse("route", raw).map_err(|_| Missing("route"))?;
        let route = store
            .get_route(&id, &caller)
            .await
            .map_err(|_| Missing("route"))?;
        let (from, to) = route.school_year_window();
        let names = |key: &str| edufed_i18n::ru().text(key);
        let events: Vec<ics::PlainEvent> = store
            .route_occurrences(&route, from, to)
            .await?
            .into_iter()
            .map(|o| ics::PlainEvent {
                uid: format!("{}-{}-{}", route.id, o.item, o.start.timestamp()),
                start: o.start,
                end: o.end,
                summary: o.title,
                description: Some(format!(
                    "{} · {}",
                    o.offering_name,
                    names(&format!(
                        "route-item-status-{}",
                        o.status.as_str().replace('_', "-")
                    ))
                )),
                private: true,
            })
            .collect();
        let name = format!("{} · {}", route.title, route.cohort.code);
        Ok(Feed {
            body: ics::render_plain(&name, &events, store.clock().now()),
            name,
        })
    }
}

fn filter_from(params: &HashMap<String, String>) -> Result<FeedFilter, FieldError> {
    let param = |name: &str| params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    Ok(FeedFilter {
        kind: param("kind")
            .map(|v| ActivityKind::parse("kind", v))
            .transpose()?,
        direction: param("direction")
            .map(|v| Direction::parse("direction", v))
            .transpose()?,
        format: param("format")
            .map(|v| Format::parse("format", v))
            .transpose()?,
        grade: param("grade")
            .map(|v| match v.parse::<u8>() {
                Ok(g @ 1..=11) => Ok(g),
                _ => Err(FieldError::new("grade", "grades are 1 to 11")),
            })
            .transpose()?,
        subject: param("subject")
            .map(|v| text::line("subject", v, 60).map(|s| text::fold(&s)))
            .transpose()?,
        ..FeedFilter::default()
    })
}
