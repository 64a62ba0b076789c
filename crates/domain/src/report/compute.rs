//! The reports, computed from [`Facts`].

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use super::{
    ActivityFacts, ActivityRow, AgreementRow, EXTREMES, Facts, Indicator, IndicatorRow, Key,
    OccurrenceFacts, ParticipationRow, Period, Query, RegistrationFacts, Report, ResourceFacts,
    ResourceRow, ResourcesReport, Scope, TargetScope, grade_label, month_of, round2,
};
use crate::agreement::{AgreementKind, State as AgreementState};
use crate::calendar::registration::RegistrationState;
use crate::ids::{ActivityId, AgreementId, OrgId};

fn zone(facts: &Facts, org: &OrgId) -> chrono_tz::Tz {
    facts
        .orgs
        .get(org)
        .map(|o| o.time_zone.tz())
        .unwrap_or(chrono_tz::UTC)
}

fn day_in(at: DateTime<Utc>, tz: chrono_tz::Tz) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

pub(super) fn admits(facts: &Facts, scope: &Scope, org: &OrgId) -> bool {
    match facts.orgs.get(org) {
        Some(o) => scope.admits(o),
        None => *scope == Scope::Network,
    }
}

fn hours(start: DateTime<Utc>, end: DateTime<Utc>) -> f64 {
    (end - start).num_minutes().max(0) as f64 / 60.0
}

fn is_held(facts: &Facts, a: &ActivityFacts, o: &OccurrenceFacts) -> bool {
    !a.cancelled && !o.cancelled && o.end <= facts.as_of
}

fn index(facts: &Facts) -> HashMap<&ActivityId, &ActivityFacts> {
    facts.activities.iter().map(|a| (&a.id, a)).collect()
}

/// The day a registration counts on: its occurrence's, or for the whole
/// series the first occurrence within the period. `None` when it falls
/// outside the period, or its occurrence or activity was cancelled.
pub(super) fn dated(
    facts: &Facts,
    r: &RegistrationFacts,
    a: &ActivityFacts,
    period: &Period,
) -> Option<NaiveDate> {
    if a.cancelled {
        return None;
    }
    let tz = zone(facts, &a.publisher);
    match r.occurrence {
        Some(key) => {
            let o = a.occurrences.iter().find(|o| o.key == key)?;
            let day = day_in(o.start, tz);
            (!o.cancelled && period.contains(day)).then_some(day)
        }
        None => a
            .occurrences
            .iter()
            .filter(|o| !o.cancelled)
            .map(|o| day_in(o.start, tz))
            .find(|day| period.contains(*day)),
    }
}

fn activity_key(a: &ActivityFacts, day: NaiveDate) -> Key {
    Key {
        organization: a.publisher.to_string(),
        publisher: a.publisher.to_string(),
        direction: a
            .direction
            .map(|d| d.as_str().to_owned())
            .unwrap_or_default(),
        kind: a.kind.as_str().to_owned(),
        month: month_of(day),
        ..Key::default()
    }
}

/// `key` projected on `group_by`, once per designation of `org` standing
/// on `day` when grouped by designation (once, blank, for none).
fn designated(
    facts: &Facts,
    org: &OrgId,
    day: NaiveDate,
    key: Key,
    group_by: &[super::Dimension],
) -> Vec<Key> {
    let labels = if group_by.contains(&super::Dimension::Designation) {
        facts
            .orgs
            .get(org)
            .map(|o| o.designations_on(day))
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    if labels.is_empty() {
        return vec![key.project(group_by)];
    }
    labels
        .into_iter()
        .map(|designation| {
            Key {
                designation,
                ..key.clone()
            }
            .project(group_by)
        })
        .collect()
}

/// Joint activities held and cancelled, by occurrence within the period.
pub fn activities(facts: &Facts, q: &Query) -> Report<ActivityRow> {
    #[derive(Default)]
    struct Acc<'a> {
        row: ActivityRow,
        held: BTreeSet<&'a ActivityId>,
        cancelled: BTreeSet<&'a ActivityId>,
    }
    fn add<'a>(acc: &mut Acc<'a>, facts: &Facts, a: &'a ActivityFacts, o: &OccurrenceFacts) {
        if a.cancelled || o.cancelled {
            acc.row.occurrences_cancelled += 1;
            if a.cancelled {
                acc.cancelled.insert(&a.id);
            }
        } else if is_held(facts, a, o) {
            acc.row.occurrences_held += 1;
            acc.row.hours_held += hours(o.start, o.end);
            acc.held.insert(&a.id);
        } else {
            acc.row.occurrences_scheduled += 1;
        }
    }
    let mut groups: BTreeMap<Key, Acc> = BTreeMap::new();
    let mut total = Acc::default();
    for a in &facts.activities {
        if !admits(facts, &q.scope, &a.publisher) {
            continue;
        }
        let tz = zone(facts, &a.publisher);
        for o in &a.occurrences {
            let day = day_in(o.start, tz);
            if !q.period.contains(day) {
                continue;
            }
            for key in designated(facts, &a.publisher, day, activity_key(a, day), &q.group_by) {
                add(groups.entry(key).or_default(), facts, a, o);
            }
            add(&mut total, facts, a, o);
        }
    }
    let finish = |key: Key, acc: Acc| ActivityRow {
        key,
        activities_held: acc.held.len() as u32,
        activities_cancelled: acc.cancelled.len() as u32,
        hours_held: round2(acc.row.hours_held),
        ..acc.row
    };
    Report {
        rows: groups.into_iter().map(|(k, acc)| finish(k, acc)).collect(),
        total: finish(Key::default(), total),
    }
}

/// Cohorts registered, their attendance and placings, by the day each
/// counts on.
pub fn participation(facts: &Facts, q: &Query) -> Report<ParticipationRow> {
    fn add(row: &mut ParticipationRow, r: &RegistrationFacts) {
        match r.state {
            RegistrationState::Confirmed => {
                row.cohorts += 1;
                row.registered += r.headcount;
                if let Some(results) = &r.results {
                    row.cohorts_with_results += 1;
                    row.attended += results.attended;
                    row.participants += results.participants;
                    row.prize_winners += results.prize_winners;
                    row.winners += results.winners;
                }
            }
            RegistrationState::Waitlisted => {
                row.waitlisted_cohorts += 1;
                row.waitlisted += r.headcount;
            }
            RegistrationState::Withdrawn => {}
        }
    }
    let activities = index(facts);
    let mut groups: BTreeMap<Key, ParticipationRow> = BTreeMap::new();
    let mut total = ParticipationRow::default();
    for r in &facts.registrations {
        if r.state == RegistrationState::Withdrawn {
            continue;
        }
        let Some(a) = activities.get(&r.activity_id) else {
            continue;
        };
        if !admits(facts, &q.scope, &r.org_id) && !admits(facts, &q.scope, &a.publisher) {
            continue;
        }
        let Some(day) = dated(facts, r, a, &q.period) else {
            continue;
        };
        let key = Key {
            organization: r.org_id.to_string(),
            grade: grade_label(r.grades),
            ..activity_key(a, day)
        };
        for key in designated(facts, &a.publisher, day, key, &q.group_by) {
            add(groups.entry(key).or_default(), r);
        }
        add(&mut total, r);
    }
    Report {
        rows: groups
            .into_iter()
            .map(|(key, row)| ParticipationRow { key, ..row })
            .collect(),
        total,
    }
}

/// One agreement's figures for a period.
#[derive(Default, Clone)]
struct Delivery {
    delivered_hours: f64,
    scheduled_hours: f64,
    students: u32,
    attended: u32,
}

/// What the activities under each agreement delivered in `period`: hours
/// held and to come, and the pupils of their confirmed cohorts, a cohort of
/// the same school and grades counted once (its largest headcount).
fn deliveries<'a>(facts: &'a Facts, period: &Period) -> HashMap<&'a AgreementId, Delivery> {
    let mut out: HashMap<&AgreementId, Delivery> = HashMap::new();
    let activities = index(facts);
    for a in &facts.activities {
        let Some(agreement) = &a.agreement_id else {
            continue;
        };
        let tz = zone(facts, &a.publisher);
        let d = out.entry(agreement).or_default();
        for o in &a.occurrences {
            if a.cancelled || o.cancelled || !period.contains(day_in(o.start, tz)) {
                continue;
            }
            if o.end <= facts.as_of {
                d.delivered_hours += hours(o.start, o.end);
            } else {
                d.scheduled_hours += hours(o.start, o.end);
            }
        }
    }
    // (agreement, school, grades) → (largest headcount, its attendance).
    type CohortKey<'k> = (&'k AgreementId, &'k OrgId, Option<(u8, u8)>);
    let mut cohorts: HashMap<CohortKey, (u32, u32)> = HashMap::new();
    for r in &facts.registrations {
        // Students delivered: a group of teachers is not among them.
        if r.state != RegistrationState::Confirmed || r.grades.is_none() {
            continue;
        }
        let Some(a) = activities.get(&r.activity_id) else {
            continue;
        };
        let Some(agreement) = &a.agreement_id else {
            continue;
        };
        if dated(facts, r, a, period).is_none() {
            continue;
        }
        let attended = r.results.as_ref().map_or(0, |x| x.attended);
        let best = cohorts.entry((agreement, &r.org_id, r.grades)).or_default();
        if r.headcount > best.0 {
            *best = (r.headcount, attended);
        }
    }
    for ((agreement, _, _), (headcount, attended)) in cohorts {
        let d = out.entry(agreement).or_default();
        d.students += headcount;
        d.attended += attended;
    }
    out
}

/// Agreements whose term overlaps the period or that are not yet in force,
/// by kind, state and party.
pub fn agreements(facts: &Facts, q: &Query) -> Report<AgreementRow> {
    let delivery = deliveries(facts, &q.period);
    let horizon = facts.as_of + Duration::days(i64::from(q.expiring_within_days));
    let mut groups: BTreeMap<Key, AgreementRow> = BTreeMap::new();
    let mut total = AgreementRow::default();
    for a in &facts.agreements {
        let parties: Vec<&OrgId> = a
            .parties
            .iter()
            .filter(|p| admits(facts, &q.scope, p))
            .collect();
        if parties.is_empty() {
            continue;
        }
        if let Some((from, to)) = a.term
            && (to < q.period.from || from > q.period.to)
        {
            continue;
        }
        let tz = zone(facts, &a.parties[0]);
        let d = delivery.get(&a.id).cloned().unwrap_or_default();
        let figures = AgreementRow {
            key: Key::default(),
            agreements: 1,
            signed_in_period: u32::from(
                a.in_force_since
                    .is_some_and(|at| q.period.contains(day_in(at, tz))),
            ),
            expiring_soon: u32::from(
                matches!(a.state, AgreementState::Signed | AgreementState::Active)
                    && a.ends_at
                        .is_some_and(|end| end > facts.as_of && end <= horizon),
            ),
            planned_hours: a.planned_hours.values().sum(),
            delivered_hours: d.delivered_hours,
            scheduled_hours: d.scheduled_hours,
            planned_students: a.planned_students.unwrap_or(0),
            students_reached: d.students,
            attended: d.attended,
        };
        let keys: BTreeSet<Key> = parties
            .iter()
            .map(|p| {
                Key {
                    organization: p.to_string(),
                    kind: a.kind.as_str().to_owned(),
                    state: a.state.as_str().to_owned(),
                    ..Key::default()
                }
                .project(&q.group_by)
            })
            .collect();
        for key in keys {
            add_agreement(groups.entry(key).or_default(), &figures);
        }
        add_agreement(&mut total, &figures);
    }
    let finish = |key: Key, row: AgreementRow| AgreementRow {
        key,
        planned_hours: round2(row.planned_hours),
        delivered_hours: round2(row.delivered_hours),
        scheduled_hours: round2(row.scheduled_hours),
        ..row
    };
    Report {
        rows: groups.into_iter().map(|(k, r)| finish(k, r)).collect(),
        total: finish(Key::default(), total),
    }
}

fn add_agreement(row: &mut AgreementRow, f: &AgreementRow) {
    row.agreements += f.agreements;
    row.signed_in_period += f.signed_in_period;
    row.expiring_soon += f.expiring_soon;
    row.planned_hours += f.planned_hours;
    row.delivered_hours += f.delivered_hours;
    row.scheduled_hours += f.scheduled_hours;
    row.planned_students += f.planned_students;
    row.students_reached += f.students_reached;
    row.attended += f.attended;
}

/// Sorted, merged intervals.
fn merged(
    mut intervals: Vec<(DateTime<Utc>, DateTime<Utc>)>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    intervals.sort();
    let mut out: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for (s, e) in intervals {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// Bookable hours of a resource per local day of the period: its weekly
/// hours (the whole day when it has none), less its blackouts.
fn bookable_by_month(r: &ResourceFacts, period: &Period) -> BTreeMap<String, f64> {
    use chrono::TimeZone as _;
    let tz = r.time_zone.tz();
    let blackouts = merged(
        r.blackouts
            .iter()
            .flat_map(|b| b.intervals(r.time_zone).unwrap_or_default())
            .collect(),
    );
    let local = |day: NaiveDate, t: chrono::NaiveTime| {
        tz.from_local_datetime(&day.and_time(t))
            .earliest()
            .map(|x| x.with_timezone(&Utc))
    };
    let mut out: BTreeMap<String, f64> = BTreeMap::new();
    let mut day = period.from;
    while day <= period.to {
        let windows: Vec<(DateTime<Utc>, DateTime<Utc>)> = if r.hours.is_empty() {
            let next = day.succ_opt().unwrap_or(day);
            local(day, chrono::NaiveTime::MIN)
                .zip(local(next, chrono::NaiveTime::MIN))
                .into_iter()
                .collect()
        } else {
            r.hours
                .iter()
                .filter(|h| h.weekday == day.weekday())
                .filter_map(|h| local(day, h.opens).zip(local(day, h.closes)))
                .collect()
        };
        let mut minutes = 0i64;
        for (s, e) in merged(windows) {
            let mut m = (e - s).num_minutes();
            for (bs, be) in &blackouts {
                let (os, oe) = (s.max(*bs), e.min(*be));
                if oe > os {
                    m -= (oe - os).num_minutes();
                }
            }
            minutes += m.max(0);
        }
        *out.entry(month_of(day)).or_default() += minutes as f64 / 60.0;
        match day.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
    }
    out
}

/// Booked over bookable hours of this node's resources, with the busiest
/// and idlest over the period.
pub fn resources(facts: &Facts, q: &Query) -> ResourcesReport {
    #[derive(Default)]
    struct Acc {
        row: ResourceRow,
        ids: BTreeSet<String>,
    }
    fn add(acc: &mut Acc, id: &str, name: &str, bookable: f64, booked: f64, occurrences: u32) {
        acc.ids.insert(id.to_owned());
        acc.row.name = name.to_owned();
        acc.row.bookable_hours += bookable;
        acc.row.booked_hours += booked;
        acc.row.bookings += occurrences;
    }
    fn finish(key: Key, acc: Acc, named: bool) -> ResourceRow {
        let ResourceRow {
            bookable_hours,
            booked_hours,
            ..
        } = acc.row;
        ResourceRow {
            key,
            name: if named {
                acc.row.name.clone()
            } else {
                String::new()
            },
            resources: acc.ids.len() as u32,
            bookable_hours: round2(bookable_hours),
            booked_hours: round2(booked_hours),
            utilization: if bookable_hours > 0.0 {
                round2(booked_hours / bookable_hours * 100.0)
            } else {
                0.0
            },
            bookings: acc.row.bookings,
        }
    }
    let named = q.group_by.contains(&super::Dimension::Resource);
    let mut groups: BTreeMap<Key, Acc> = BTreeMap::new();
    let mut per_resource: Vec<(Key, Acc)> = Vec::new();
    let mut total = Acc::default();
    for r in &facts.resources {
        if !admits(facts, &q.scope, &r.owner) {
            continue;
        }
        let tz = r.time_zone.tz();
        let bookable = bookable_by_month(r, &q.period);
        let mut booked: BTreeMap<String, (f64, u32)> = BTreeMap::new();
        for (s, e) in &r.booked {
            let day = day_in(*s, tz);
            if q.period.contains(day) {
                let b = booked.entry(month_of(day)).or_default();
                b.0 += hours(*s, *e);
                b.1 += 1;
            }
        }
        let base = Key {
            organization: r.owner.to_string(),
            kind: r.kind.as_str().to_owned(),
            resource: r.id.to_string(),
            ..Key::default()
        };
        let id = r.id.to_string();
        let mut whole = Acc::default();
        for (month, hours_bookable) in &bookable {
            let (hours_booked, n) = booked.get(month).copied().unwrap_or_default();
            let key = Key {
                month: month.clone(),
                ..base.clone()
            }
            .project(&q.group_by);
            add(
                groups.entry(key).or_default(),
                &id,
                &r.name,
                *hours_bookable,
                hours_booked,
                n,
            );
            add(&mut whole, &id, &r.name, *hours_bookable, hours_booked, n);
            add(&mut total, &id, &r.name, *hours_bookable, hours_booked, n);
        }
        per_resource.push((base, whole));
    }
    let mut extremes: Vec<ResourceRow> = per_resource
        .into_iter()
        .map(|(key, acc)| {
            finish(
                key.project(&[
                    super::Dimension::Resource,
                    super::Dimension::Organization,
                    super::Dimension::Kind,
                ]),
                acc,
                true,
            )
        })
        .filter(|r| r.bookable_hours > 0.0)
        .collect();
    extremes.sort_by(|a, b| {
        b.utilization
            .total_cmp(&a.utilization)
            .then_with(|| a.key.resource.cmp(&b.key.resource))
    });
    let busiest: Vec<ResourceRow> = extremes.iter().take(EXTREMES).cloned().collect();
    extremes.sort_by(|a, b| {
        a.utilization
            .total_cmp(&b.utilization)
            .then_with(|| a.key.resource.cmp(&b.key.resource))
    });
    let idlest: Vec<ResourceRow> = extremes.into_iter().take(EXTREMES).collect();
    ResourcesReport {
        report: Report {
            rows: groups
                .into_iter()
                .map(|(k, acc)| finish(k, acc, named))
                .collect(),
            total: finish(Key::default(), total, false),
        },
        busiest,
        idlest,
    }
}

/// Numerator and denominator of each indicator per organization, and the
/// scope's whole, for one period.
#[derive(Default)]
pub(super) struct Counts {
    pub(super) per_org: BTreeMap<(Indicator, OrgId), (f64, f64)>,
    pub(super) total: BTreeMap<Indicator, (f64, f64)>,
}

fn count(facts: &Facts, scope: &Scope, period: &Period) -> Counts {
    let activities = index(facts);
    let mut c = Counts::default();
    let in_scope = |org: &OrgId| admits(facts, scope, org);
    let year = period.school_year();

    // Network-form coverage: cohorts under network-form agreements, the
    // same school, agreement and grades counted once.
    let network_form: BTreeSet<&AgreementId> = facts
        .agreements
        .iter()
        .filter(|a| a.kind == AgreementKind::NetworkForm)
        .map(|a| &a.id)
        .collect();
    // A school's cohort under an agreement, by its grades (none: teachers).
    type Covered<'k> = (&'k OrgId, &'k AgreementId, Option<(u8, u8)>);
    let mut covered: HashMap<Covered<'_>, u32> = HashMap::new();
    let mut placed: BTreeMap<&OrgId, (u32, u32)> = BTreeMap::new();
    let mut pupils: BTreeMap<&ActivityId, u32> = BTreeMap::new();
    for r in &facts.registrations {
        // Pupils only: a group of teachers is counted among teachers.
        if r.state != RegistrationState::Confirmed || r.grades.is_none() {
            continue;
        }
        let Some(a) = activities.get(&r.activity_id) else {
            continue;
        };
        if dated(facts, r, a, period).is_none() {
            continue;
        }
        *pupils.entry(&a.id).or_default() += r.headcount;
        if !in_scope(&r.org_id) {
            continue;
        }
        if let Some(agreement) = a
            .agreement_id
            .as_ref()
            .filter(|id| network_form.contains(id))
        {
            let best = covered.entry((&r.org_id, agreement, r.grades)).or_default();
            *best = (*best).max(r.headcount);
        }
        if let Some(results) = &r.results {
            let p = placed.entry(&r.org_id).or_default();
            p.0 += results.winners + results.prize_winners;
            p.1 += results.participants;
        }
    }
    let mut by_org: BTreeMap<&OrgId, u32> = BTreeMap::new();
    for ((org, _, _), n) in covered {
        *by_org.entry(org).or_default() += n;
    }
    let enrolled: BTreeMap<&OrgId, u32> = facts
        .enrolments
        .iter()
        .filter(|e| e.school_year == year && in_scope(&e.org_id))
        .map(|e| (&e.org_id, e.students))
        .collect();
    let orgs: BTreeSet<&OrgId> = by_org.keys().chain(enrolled.keys()).copied().collect();
    for org in orgs {
        let n = f64::from(by_org.get(org).copied().unwrap_or(0));
        let d = f64::from(enrolled.get(org).copied().unwrap_or(0));
        c.per_org
            .insert((Indicator::NetworkCoverage, org.clone()), (n, d));
        if d > 0.0 {
            let t = c.total.entry(Indicator::NetworkCoverage).or_default();
            t.0 += n;
            t.1 += d;
        }
    }
    c.total.entry(Indicator::NetworkCoverage).or_default();
    let t = c.total.entry(Indicator::WinnersShare).or_default();
    for (n, d) in placed.values() {
        t.0 += f64::from(*n);
        t.1 += f64::from(*d);
    }
    for (org, (n, d)) in placed {
        c.per_org.insert(
            (Indicator::WinnersShare, org.clone()),
            (f64::from(n), f64::from(d)),
        );
    }

    // Activities held, and the pupils registered for them.
    let mut held: BTreeMap<&OrgId, (f64, f64)> = BTreeMap::new();
    for a in &facts.activities {
        if !in_scope(&a.publisher) {
            continue;
        }
        let tz = zone(facts, &a.publisher);
        let was_held = a
            .occurrences
            .iter()
            .any(|o| is_held(facts, a, o) && period.contains(day_in(o.start, tz)));
        if was_held {
            let h = held.entry(&a.publisher).or_default();
            h.0 += 1.0;
            h.1 += f64::from(pupils.get(&a.id).copied().unwrap_or(0));
        }
    }
    let (mut all_held, mut all_pupils) = (0.0, 0.0);
    for (org, (activities_held, pupils)) in held {
        c.per_org.insert(
            (Indicator::ActivitiesHeld, org.clone()),
            (activities_held, 1.0),
        );
        c.per_org.insert(
            (Indicator::ParticipantsPerActivity, org.clone()),
            (pupils, activities_held),
        );
        all_held += activities_held;
        all_pupils += pupils;
    }
    c.total.insert(Indicator::ActivitiesHeld, (all_held, 1.0));
    c.total
        .insert(Indicator::ParticipantsPerActivity, (all_pupils, all_held));

    // Agreements come into force.
    let mut signed = 0.0;
    for a in &facts.agreements {
        let Some(at) = a.in_force_since else {
            continue;
        };
        let tz = a.parties.first().map_or(chrono_tz::UTC, |p| zone(facts, p));
        if !period.contains(day_in(at, tz)) {
            continue;
        }
        let mut any = false;
        for p in a.parties.iter().filter(|p| in_scope(p)) {
            any = true;
            c.per_org
                .entry((Indicator::AgreementsSigned, p.clone()))
                .or_insert((0.0, 1.0))
                .0 += 1.0;
        }
        if any {
            signed += 1.0;
        }
    }
    c.total.insert(Indicator::AgreementsSigned, (signed, 1.0));
    super::mentoring::count(facts, &|org| in_scope(org), period, &mut c);
    super::routes::count(facts, &|org| in_scope(org), period, &mut c);
    c
}

fn value(indicator: Indicator, (n, d): (f64, f64)) -> Option<f64> {
    if d <= 0.0 {
        return None;
    }
    Some(round2(if indicator.is_share() {
        n / d * 100.0
    } else {
        n / d
    }))
}

/// The target for `scope` in force for a period ending `to`: the earliest
/// due on or after it, else the latest.
fn target_for(
    facts: &Facts,
    indicator: Indicator,
    scope: &TargetScope,
    to: NaiveDate,
) -> Option<(f64, NaiveDate)> {
    let mut candidates: Vec<_> = facts
        .targets
        .iter()
        .filter(|t| t.indicator == indicator && &t.scope == scope)
        .collect();
    candidates.sort_by_key(|t| t.due);
    candidates
        .iter()
        .find(|t| t.due >= to)
        .or(candidates.last())
        .map(|t| (t.value, t.due))
        .or_else(|| {
            let year_end = super::SchoolYear::of(to).period().to;
            indicator.standard_target().map(|v| (v, year_end))
        })
}

/// Every indicator for each organization in scope and for the whole scope,
/// against the previous period and the targets set.
pub fn indicators(facts: &Facts, q: &Query) -> Vec<IndicatorRow> {
    let now = count(facts, &q.scope, &q.period);
    let before = count(facts, &q.scope, &q.period.previous());
    let whole_scope = match &q.scope {
        Scope::Organization(id) => TargetScope::Organization(id.clone()),
        Scope::City(city) => TargetScope::City(city.clone()),
        Scope::Node | Scope::Network => TargetScope::Network,
    };
    let row = |indicator: Indicator,
               organization: String,
               figures: (f64, f64),
               previous: Option<(f64, f64)>,
               target: Option<(f64, NaiveDate)>| {
        let v = value(indicator, figures);
        let p = previous.and_then(|p| value(indicator, p));
        IndicatorRow {
            indicator,
            organization,
            value: v,
            numerator: round2(figures.0),
            denominator: round2(figures.1),
            previous: p,
            trend: v.zip(p).map(|(v, p)| round2(v - p)),
            target: target.map(|t| t.0),
            target_due: target.map(|t| t.1),
            gap: v.zip(target).map(|(v, t)| round2(t.0 - v)),
        }
    };
    let mut rows = Vec::new();
    for indicator in Indicator::ALL.iter().copied() {
        let mut orgs: BTreeSet<&OrgId> = now
            .per_org
            .keys()
            .chain(before.per_org.keys())
            .filter(|(i, _)| *i == indicator)
            .map(|(_, o)| o)
            .collect();
        for t in &facts.targets {
            if let TargetScope::Organization(org) = &t.scope
                && t.indicator == indicator
                && admits(facts, &q.scope, org)
            {
                orgs.insert(org);
            }
        }
        for org in orgs {
            let key = (indicator, org.clone());
            let zero = if indicator.is_share() || indicator == Indicator::ParticipantsPerActivity {
                (0.0, 0.0)
            } else {
                (0.0, 1.0)
            };
            rows.push(row(
                indicator,
                org.to_string(),
                now.per_org.get(&key).copied().unwrap_or(zero),
                Some(before.per_org.get(&key).copied().unwrap_or(zero)),
                target_for(
                    facts,
                    indicator,
                    &TargetScope::Organization(org.clone()),
                    q.period.to,
                ),
            ));
        }
        rows.push(row(
            indicator,
            String::new(),
            now.total.get(&indicator).copied().unwrap_or_default(),
            before.total.get(&indicator).copied(),
            target_for(facts, indicator, &whole_scope, q.period.to),
        ));
    }
    rows
}
