//! What tables print for the records they refer to: the zone a record's
//! times are read in (an activity's schedule zone, a resource's, its
//! bookings' too, an organization's) and the names people know
//! organizations and resources by instead of their ids. A record of no
//! place (a token, a session, a peer, the change log) reads in the
//! caller's zone: that of their first organization, as in the web console,
//! or UTC. Each record is asked of the node once.

use std::collections::HashMap;

use chrono_tz::Tz;
use edufed_proto::v1 as pb;

use crate::client::Connection;

/// `zone` as a time zone, UTC when it is none.
pub fn parse(zone: &str) -> Tz {
    zone.parse().unwrap_or(Tz::UTC)
}

/// The zones of the records a command prints.
pub struct Zones<'c> {
    conn: &'c Connection,
    known: HashMap<(&'static str, String), Tz>,
    names: HashMap<(&'static str, String), String>,
}

impl<'c> Zones<'c> {
    pub fn new(conn: &'c Connection) -> Self {
        Self {
            conn,
            known: HashMap::new(),
            names: HashMap::new(),
        }
    }

    async fn cached<F>(&mut self, kind: &'static str, id: &str, ask: F) -> Tz
    where
        F: AsyncFnOnce(&'c Connection, String) -> Option<String>,
    {
        let key = (kind, id.to_owned());
        if let Some(zone) = self.known.get(&key) {
            return *zone;
        }
        let zone = match ask(self.conn, id.to_owned()).await {
            Some(zone) => parse(&zone),
            None => self.caller().await,
        };
        self.known.insert(key, zone);
        zone
    }

    /// An organization's zone, by its id or slug.
    pub async fn organization(&mut self, id: &str) -> Tz {
        self.cached("organization", id, async |conn, id| {
            let org = conn
                .directory()
                .get_organization(pb::GetOrganizationRequest { organization: id })
                .await
                .ok()?
                .into_inner();
            Some(org.time_zone)
        })
        .await
    }

    /// The name people know an organization by (its short name, else its
    /// full name); its id when the node cannot say.
    pub async fn organization_name(&mut self, id: &str) -> String {
        self.named("organization", id, async |conn, id| {
            let org = conn
                .directory()
                .get_organization(pb::GetOrganizationRequest { organization: id })
                .await
                .ok()?
                .into_inner();
            Some(if org.short_name.is_empty() {
                org.full_name
            } else {
                org.short_name
            })
        })
        .await
    }

    /// A resource's name; its id when the node cannot say.
    pub async fn resource_name(&mut self, id: &str) -> String {
        self.named("resource", id, async |conn, id| {
            let resource = conn
                .booking()
                .get_resource(pb::GetResourceRequest { resource_id: id })
                .await
                .ok()?;
            Some(resource.into_inner().name)
        })
        .await
    }

    async fn named<F>(&mut self, kind: &'static str, id: &str, ask: F) -> String
    where
        F: AsyncFnOnce(&'c Connection, String) -> Option<String>,
    {
        if id.is_empty() {
            return "—".to_owned();
        }
        let key = (kind, id.to_owned());
        if let Some(name) = self.names.get(&key) {
            return name.clone();
        }
        let name = ask(self.conn, id.to_owned())
            .await
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| id.to_owned());
        self.names.insert(key, name.clone());
        name
    }

    /// An activity's schedule zone.
    pub async fn activity(&mut self, id: &str) -> Tz {
        self.cached("activity", id, async |conn, id| {
            let found = conn
                .calendar()
                .get_activity(pb::GetActivityRequest { activity_id: id })
                .await
                .ok()?;
            let details = found.into_inner().activity?.details?;
            Some(details.schedule?.time_zone)
        })
        .await
    }

    /// A resource's zone.
    pub async fn resource(&mut self, id: &str) -> Tz {
        self.cached("resource", id, async |conn, id| {
            let resource = conn
                .booking()
                .get_resource(pb::GetResourceRequest { resource_id: id })
                .await
                .ok()?;
            Some(resource.into_inner().time_zone)
        })
        .await
    }

    /// A booking's zone: its resource's.
    pub async fn booking(&mut self, id: &str) -> Tz {
        let key = ("booking", id.to_owned());
        if let Some(zone) = self.known.get(&key) {
            return *zone;
        }
        let resource = self
            .conn
            .booking()
            .get_booking(pb::GetBookingRequest {
                booking_id: id.to_owned(),
            })
            .await
            .ok()
            .map(|b| b.into_inner().resource_id);
        let zone = match resource {
            Some(resource) => self.resource(&resource).await,
            None => self.caller().await,
        };
        self.known.insert(key, zone);
        zone
    }

    /// The caller's zone: their first organization's, else UTC.
    pub async fn caller(&mut self) -> Tz {
        let key = ("caller", String::new());
        if let Some(zone) = self.known.get(&key) {
            return *zone;
        }
        let first = self
            .conn
            .directory()
            .who_am_i(pb::WhoAmIRequest {})
            .await
            .ok()
            .and_then(|me| me.into_inner().memberships.into_iter().next());
        let zone = match first {
            Some(m) => self
                .conn
                .directory()
                .get_organization(pb::GetOrganizationRequest {
                    organization: m.organization_id,
                })
                .await
                .map_or(Tz::UTC, |org| parse(&org.into_inner().time_zone)),
            None => Tz::UTC,
        };
        self.known.insert(key, zone);
        zone
    }
}
