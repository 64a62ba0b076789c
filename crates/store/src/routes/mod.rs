//! A school's learning routes: its route templates and the routes assigned
//! to its cohorts, kept whole beside the columns listings select on. They
//! stay on the school's node: their change-log entries are the school's
//! own, never shared.

use chrono::{DateTime, Utc};
use edufed_domain::calendar::ActivityKind;
use edufed_domain::changes::{Actor, EntityKind, NewChange};
use edufed_domain::directory::OrgRef;
use edufed_domain::ids::{OrgId, RouteId, RouteTemplateId};
use edufed_domain::policy::{Action, Principal, Target, authorize};
use edufed_domain::routes::{
    Error, ItemStatus, Offering, OfferingFacts, Outcome, Route, RouteCohort, RouteOccurrence,
    RouteState, RouteTemplate, TemplateDraft,
};
use edufed_domain::{FieldError, StorageError};
use sqlx::AnyConnection;

use crate::Store;
use crate::error::storage;
use crate::sql::{QueryText, Value, from_json, micros, signed, to_json};
use crate::tx::{Locked, WriteTx};

/// The most templates or routes one listing answers.
pub const MAX_LISTED: u32 = 500;

fn template_change(t: &RouteTemplate, actor: &Actor) -> NewChange {
    NewChange::upsert(
        EntityKind::RouteTemplate,
        t.id.to_string(),
        t.version,
        Some(t.school.clone()),
        t,
        actor,
    )
}

fn route_change(r: &Route, actor: &Actor) -> NewChange {
    NewChange::upsert(
        EntityKind::Route,
        r.id.to_string(),
        r.version,
        Some(r.school.clone()),
        r,
        actor,
    )
}

async fn save_template(tx: &mut WriteTx<'_>, t: &RouteTemplate, insert: bool) -> Result<(), Error> {
    let sql = if insert {
        "INSERT INTO route_templates (school_year, grade, record, version, updated_at, \
         created_at, school_id, id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    } else {
        "UPDATE route_templates SET school_year = $1, grade = $2, record = $3, version = $4, \
         updated_at = $5 WHERE created_at = $6 AND school_id = $7 AND id = $8"
    };
    sqlx::query(sql)
        .bind(i64::from(t.school_year))
        .bind(i64::from(t.grade))
        .bind(to_json(t)?)
        .bind(signed(t.version))
        .bind(micros(t.updated_at))
        .bind(micros(t.created_at))
        .bind(t.school.to_string())
        .bind(t.id.to_string())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
    Ok(())
}

async fn save_route(tx: &mut WriteTx<'_>, r: &Route, insert: bool) -> Result<(), Error> {
    let sql = if insert {
        "INSERT INTO routes (school_year, grade, state, record, version, updated_at, template_id, \
         created_at, school_id, id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    } else {
        "UPDATE routes SET school_year = $1, grade = $2, state = $3, record = $4, version = $5, \
         updated_at = $6 WHERE template_id = $7 AND created_at = $8 AND school_id = $9 AND id = $10"
    };
    sqlx::query(sql)
        .bind(i64::from(r.school_year))
        .bind(i64::from(r.grade))
        .bind(r.state.as_str())
        .bind(to_json(r)?)
        .bind(signed(r.version))
        .bind(micros(r.updated_at))
        .bind(r.template.to_string())
        .bind(micros(r.created_at))
        .bind(r.school.to_string())
        .bind(r.id.to_string())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
    Ok(())
}

async fn load_template(
    conn: &mut AnyConnection,
    id: &RouteTemplateId,
) -> Result<RouteTemplate, Error> {
    let record: Option<String> =
        sqlx::query_scalar("SELECT record FROM route_templates WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await
            .map_err(storage)?;
    match record {
        Some(record) => Ok(from_json(&record)?),
        None => Err(Error::TemplateNotFound(id.to_string())),
    }
}

async fn load_route(conn: &mut AnyConnection, id: &RouteId) -> Result<Route, Error> {
    let record: Option<String> = sqlx::query_scalar("SELECT record FROM routes WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(storage)?;
    match record {
        Some(record) => Ok(from_json(&record)?),
        None => Err(Error::RouteNotFound(id.to_string())),
    }
}

/// Who may see a school's routes sees them; others are told they do not
/// exist.
fn visible(
    caller: &Principal,
    school: &OrgId,
    missing: impl FnOnce() -> Error,
) -> Result<(), Error> {
    if authorize(caller, Action::ViewRoutes, Target::Organization(school)).is_ok() {
        Ok(())
    } else {
        Err(missing())
    }
}

/// Whole hours between two instants, at least one.
fn hours_between(start: DateTime<Utc>, end: DateTime<Utc>) -> u32 {
    let minutes = (end - start).num_minutes().max(0);
    u32::try_from((minutes + 30) / 60)
        .unwrap_or(u32::MAX)
        .max(1)
}

/// A school's view of the offerings and the routes' lifecycle.
impl Store {
    /// What the network has of `offering` for a template of `grade`, seen
    /// by `caller`; errors name the field at `at` (`items[2].offering`).
    pub async fn offering_facts(
        &self,
        offering: &Offering,
        grade: u8,
        caller: &Principal,
        at: &str,
    ) -> Result<OfferingFacts, Error> {
        let viewer = edufed_domain::calendar::Viewer::of(Some(caller));
        match offering {
            Offering::Activity {
                activity,
                occurrence,
                venue,
            } => {
                let field = format!("{at}.activity_id");
                let missing = || FieldError::new(&field, format!("activity {activity} not found"));
                let found = match self.get_activity(activity).await {
                    Ok(found) if viewer.can_see(&found.activity) => found,
                    Ok(_) | Err(edufed_domain::calendar::Error::ActivityNotFound(_)) => {
                        return Err(missing().into());
                    }
                    Err(edufed_domain::calendar::Error::Storage(e)) => return Err(e.into()),
                    Err(other) => return Err(StorageError::new(other).into()),
                };
                let a = &found.activity;
                match venue {
                    None if !a.details.venues.is_empty() => {
                        return Err(FieldError::new(
                            format!("{at}.venue"),
                            "is required: the activity is held at several venues",
                        )
                        .into());
                    }
                    Some(n)
                        if edufed_domain::calendar::venues::find(&a.details.venues, *n)
                            .is_none() =>
                    {
                        return Err(FieldError::new(
                            format!("{at}.venue"),
                            format!("the activity has no venue {n}"),
                        )
                        .into());
                    }
                    _ => {}
                }
                if let Some(students) = a.details.audience.students
                    && !students.contains(grade)
                {
                    return Err(FieldError::new(
                        &field,
                        format!(
                            "is for grades {}–{}, not grade {grade}",
                            students.min, students.max
                        ),
                    )
                    .into());
                }
                if a.details.audience.students.is_none() {
                    return Err(FieldError::new(&field, "is not for pupils").into());
                }
                let occurrences: Vec<_> = found
                    .occurrences
                    .iter()
                    .map(|(o, _)| o)
                    .filter(|o| !o.cancelled)
                    .filter(|o| occurrence.is_none_or(|key| o.original_start == key))
                    .collect();
                if occurrence.is_some() && occurrences.is_empty() {
                    return Err(FieldError::new(
                        format!("{at}.occurrence_start"),
                        "is not an occurrence of the activity",
                    )
                    .into());
                }
                // A day-long or longer occurrence (an intake, a camp) says
                // nothing of its hours: the school states them.
                let hours = occurrences
                    .iter()
                    .filter(|o| o.end - o.start <= chrono::Duration::hours(12))
                    .map(|o| hours_between(o.start, o.end))
                    .sum();
                let home = self
                    .get_mirror(EntityKind::Activity, activity.as_str())
                    .await
                    .map_err(|e| Error::Storage(StorageError::new(e)))?
                    .map(|m| m.origin);
                Ok(OfferingFacts {
                    name: a.details.title.clone(),
                    org: a.publisher.clone(),
                    home,
                    trial: a.details.kind == ActivityKind::ProfessionalTrial,
                    hours,
                })
            }
            Offering::Booking {
                resource,
                start,
                end,
                ..
            } => {
                let field = format!("{at}.resource_id");
                let mirror = self
                    .get_mirror(EntityKind::Resource, resource.as_str())
                    .await
                    .map_err(|e| Error::Storage(StorageError::new(e)))?;
                let (found, home) = match mirror {
                    Some(m) => (
                        m.decode::<edufed_domain::booking::Resource>()
                            .map_err(|e| Error::Storage(StorageError::new(e)))?,
                        Some(m.origin),
                    ),
                    None => match self.get_resource(resource).await {
                        Ok(r) => (r, None),
                        Err(edufed_domain::booking::Error::Storage(e)) => return Err(e.into()),
                        Err(_) => {
                            return Err(FieldError::new(
                                &field,
                                format!("resource {resource} not found"),
                            )
                            .into());
                        }
                    },
                };
                let minutes = (*end - *start).num_minutes().max(0);
                Ok(OfferingFacts {
                    name: found.details.name.clone(),
                    org: found.owner.clone(),
                    home,
                    trial: false,
                    hours: u32::try_from((minutes + 30) / 60)
                        .unwrap_or(u32::MAX)
                        .max(1),
                })
            }
        }
    }

    /// Resolves each item's offering, in the draft's order.
    async fn facts_of(
        &self,
        draft: &TemplateDraft,
        caller: &Principal,
    ) -> Result<Vec<OfferingFacts>, Error> {
        let mut facts = Vec::with_capacity(draft.items.len());
        for (i, item) in draft.items.iter().enumerate() {
            facts.push(
                self.offering_facts(
                    &item.offering,
                    draft.grade,
                    caller,
                    &format!("items[{i}].offering"),
                )
                .await?,
            );
        }
        Ok(facts)
    }

    /// A new route template of `school`, an organization hosted here.
    #[tracing::instrument(name = "store.routes.create_template", skip_all, fields(school = %school))]
    pub async fn create_route_template(
        &self,
        school: &OrgId,
        draft: TemplateDraft,
        caller: &Principal,
    ) -> Result<RouteTemplate, Error> {
        authorize(caller, Action::ManageRoutes, Target::Organization(school))?;
        let draft = draft.validate()?;
        let facts = self.facts_of(&draft, caller).await?;
        let mut tx = self.write_tx().await?;
        let org = crate::directory::find_org(tx.conn(), &OrgRef::Id(school.clone())).await?;
        org.ensure_hosted_here()?;
        let template = RouteTemplate::compose(
            RouteTemplateId::generate(),
            school.clone(),
            draft,
            facts,
            tx.now(),
        );
        save_template(&mut tx, &template, true).await?;
        tx.append(template_change(&template, &caller.actor()))
            .await?;
        tx.commit().await?;
        Ok(template)
    }

    /// Replaces a template's content; routes already assigned keep theirs.
    pub async fn revise_route_template(
        &self,
        id: &RouteTemplateId,
        expected_version: Option<u64>,
        draft: TemplateDraft,
        caller: &Principal,
    ) -> Result<RouteTemplate, Error> {
        let draft = draft.validate()?;
        let current = self.get_route_template(id, caller).await?;
        authorize(
            caller,
            Action::ManageRoutes,
            Target::Organization(&current.school),
        )?;
        let facts = self.facts_of(&draft, caller).await?;
        let mut tx = self.write_tx().await?;
        tx.lock(Locked::RouteTemplates, id.as_str()).await?;
        let current = load_template(tx.conn(), id).await?;
        current.at_version(expected_version)?;
        let at = tx.now();
        let next = current.revised(
            RouteTemplate::compose(id.clone(), current.school.clone(), draft, facts, at),
            at,
        );
        save_template(&mut tx, &next, false).await?;
        tx.append(template_change(&next, &caller.actor())).await?;
        tx.commit().await?;
        Ok(next)
    }

    /// A copy of a template for another school year.
    pub async fn copy_route_template(
        &self,
        id: &RouteTemplateId,
        school_year: u16,
        caller: &Principal,
    ) -> Result<RouteTemplate, Error> {
        let mut tx = self.write_tx().await?;
        let current = load_template(tx.conn(), id).await?;
        visible(caller, &current.school, || {
            Error::TemplateNotFound(id.to_string())
        })?;
        authorize(
            caller,
            Action::ManageRoutes,
            Target::Organization(&current.school),
        )?;
        let copy = current.copy_for(school_year, tx.now())?;
        save_template(&mut tx, &copy, true).await?;
        tx.append(template_change(&copy, &caller.actor())).await?;
        tx.commit().await?;
        Ok(copy)
    }

    /// One template, for those who see the school's routes.
    pub async fn get_route_template(
        &self,
        id: &RouteTemplateId,
        caller: &Principal,
    ) -> Result<RouteTemplate, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let t = load_template(&mut conn, id).await?;
        visible(caller, &t.school, || {
            Error::TemplateNotFound(id.to_string())
        })?;
        Ok(t)
    }

    /// A school's templates, of a school year when set, by year and title.
    pub async fn list_route_templates(
        &self,
        school: &OrgId,
        school_year: Option<u16>,
        caller: &Principal,
    ) -> Result<Vec<RouteTemplate>, Error> {
        authorize(caller, Action::ViewRoutes, Target::Organization(school))?;
        self.school_records("route_templates", school, school_year, None)
            .await
    }

    /// The records of `table` of `school`, of a school year and in a state
    /// when set, newest year first.
    async fn school_records<T: serde::de::DeserializeOwned>(
        &self,
        table: &str,
        school: &OrgId,
        school_year: Option<u16>,
        state: Option<RouteState>,
    ) -> Result<Vec<T>, Error> {
        let mut q = QueryText::new(format!("SELECT record FROM {table} WHERE 1 = 1"));
        q.push(" AND school_id = $?", Value::Text(school.to_string()));
        if let Some(year) = school_year {
            q.push(" AND school_year = $?", Value::Int(i64::from(year)));
        }
        if let Some(state) = state {
            q.push(" AND state = $?", Value::Text(state.as_str().into()));
        }
        q.push(
            " ORDER BY school_year DESC, grade, created_at LIMIT $?",
            Value::Int(i64::from(MAX_LISTED)),
        );
        let rows: Vec<(String,)> = q
            .query_as()
            .fetch_all(self.reader())
            .await
            .map_err(storage)?;
        rows.into_iter()
            .map(|(r,)| from_json(&r).map_err(Error::from))
            .collect()
    }

    /// Assigns a template to a cohort of its school, with the electives
    /// chosen; the route's items are planned, not yet asked for.
    pub async fn assign_route(
        &self,
        template: &RouteTemplateId,
        cohort: RouteCohort,
        electives: &[u32],
        caller: &Principal,
    ) -> Result<Route, Error> {
        let mut tx = self.write_tx().await?;
        let t = load_template(tx.conn(), template).await?;
        visible(caller, &t.school, || {
            Error::TemplateNotFound(template.to_string())
        })?;
        authorize(
            caller,
            Action::ManageRoutes,
            Target::Organization(&t.school),
        )?;
        let route = Route::assign(&t, cohort, electives, tx.now())?;
        save_route(&mut tx, &route, true).await?;
        tx.append(route_change(&route, &caller.actor())).await?;
        tx.commit().await?;
        Ok(route)
    }

    /// Changes a route by `step` under its lock, for those who manage the
    /// school's routes.
    pub async fn change_route(
        &self,
        id: &RouteId,
        expected_version: Option<u64>,
        caller: &Principal,
        step: impl FnOnce(&Route, DateTime<Utc>) -> Result<Route, Error>,
    ) -> Result<Route, Error> {
        let mut tx = self.write_tx().await?;
        tx.lock(Locked::Routes, id.as_str()).await?;
        let current = load_route(tx.conn(), id).await?;
        visible(caller, &current.school, || {
            Error::RouteNotFound(id.to_string())
        })?;
        authorize(
            caller,
            Action::ManageRoutes,
            Target::Organization(&current.school),
        )?;
        current.at_version(expected_version)?;
        let next = step(&current, tx.now())?;
        save_route(&mut tx, &next, false).await?;
        tx.append(route_change(&next, &caller.actor())).await?;
        tx.commit().await?;
        Ok(next)
    }

    /// Records what became of item `number` when it was asked for.
    pub async fn record_route_enrolment(
        &self,
        id: &RouteId,
        number: u32,
        status: ItemStatus,
        record: Option<String>,
        refusal: Option<String>,
        caller: &Principal,
    ) -> Result<Route, Error> {
        self.change_route(id, None, caller, |r, at| {
            r.enrolled(number, status, record, refusal, at)
        })
        .await
    }

    /// Records how item `number` went: pupils who took part and the result.
    pub async fn follow_route_item(
        &self,
        id: &RouteId,
        expected_version: Option<u64>,
        number: u32,
        attended: Option<u32>,
        result: &str,
        caller: &Principal,
    ) -> Result<Route, Error> {
        self.change_route(id, expected_version, caller, |r, at| {
            r.followed(number, attended, result, at)
        })
        .await
    }

    /// States the route's outcome, completing it.
    pub async fn conclude_route(
        &self,
        id: &RouteId,
        expected_version: Option<u64>,
        outcome: Outcome,
        caller: &Principal,
    ) -> Result<Route, Error> {
        self.change_route(id, expected_version, caller, |r, at| {
            r.concluded(outcome, at)
        })
        .await
    }

    /// One route, for those who see the school's routes.
    pub async fn get_route(&self, id: &RouteId, caller: &Principal) -> Result<Route, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let r = load_route(&mut conn, id).await?;
        visible(caller, &r.school, || Error::RouteNotFound(id.to_string()))?;
        Ok(r)
    }

    /// A school's routes, of a school year and in a state when set.
    pub async fn list_routes(
        &self,
        school: &OrgId,
        school_year: Option<u16>,
        state: Option<RouteState>,
        caller: &Principal,
    ) -> Result<Vec<Route>, Error> {
        authorize(caller, Action::ViewRoutes, Target::Organization(school))?;
        self.school_records("routes", school, school_year, state)
            .await
    }

    /// The occurrences of `route`'s chosen items between `from` and `to`,
    /// by start: its activities' (as their nodes last told this one) and
    /// its bookings'.
    pub async fn route_occurrences(
        &self,
        route: &Route,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RouteOccurrence>, Error> {
        let mut out = Vec::new();
        for item in route.items.iter().filter(|i| i.chosen()) {
            let t = &item.item;
            let mut push = |start: DateTime<Utc>, end: DateTime<Utc>, zone: &str, all_day: bool| {
                if end > from && start < to {
                    out.push(RouteOccurrence {
                        item: t.number,
                        title: t.title.clone(),
                        start,
                        end,
                        all_day,
                        status: item.status,
                        offering_name: t.facts.name.clone(),
                        organization: t.facts.org.clone(),
                        time_zone: zone.to_owned(),
                    });
                }
            };
            match &t.offering {
                Offering::Activity {
                    activity,
                    occurrence,
                    ..
                } => {
                    // An activity gone from this node's calendar has no
                    // occurrences to show.
                    let Ok(found) = self.get_activity(activity).await else {
                        continue;
                    };
                    let schedule = &found.activity.details.schedule;
                    let zone = schedule.time_zone.name();
                    for (o, _) in &found.occurrences {
                        if !o.cancelled && occurrence.is_none_or(|key| o.original_start == key) {
                            push(o.start, o.end, zone, schedule.all_day);
                        }
                    }
                }
                Offering::Booking {
                    resource,
                    start,
                    end,
                    ..
                } => {
                    let zone = match self.get_resource(resource).await {
                        Ok(r) => Some(r.details.time_zone),
                        Err(_) => self
                            .get_mirror(EntityKind::Resource, resource.as_str())
                            .await
                            .ok()
                            .flatten()
                            .and_then(|m| m.decode::<edufed_domain::booking::Resource>().ok())
                            .map(|r| r.details.time_zone),
                    };
                    let Some(zone) = zone else { continue };
                    let (Ok(s), Ok(e)) = (
                        edufed_domain::calendar::schedule::to_utc("start", zone, *start),
                        edufed_domain::calendar::schedule::to_utc("end", zone, *end),
                    ) else {
                        continue;
                    };
                    push(s, e, zone.name(), false);
                }
            }
        }
        out.sort_by_key(|o| (o.start, o.item));
        Ok(out)
    }
}

/// Every route on this node, for reports: plans and counts, no names.
pub(crate) async fn all_routes(conn: &mut AnyConnection) -> Result<Vec<Route>, StorageError> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT record FROM routes ORDER BY school_id, id")
        .fetch_all(&mut *conn)
        .await
        .map_err(storage)?;
    rows.into_iter().map(|(r,)| from_json(&r)).collect()
}
