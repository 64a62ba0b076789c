//! The demo's past: the last school year and this one so far, as it
//! happened. The nodes share one clock, set back to the end of August a
//! year and more ago; activities are published and cohorts registered
//! then, lessons booked and approved, an agreement signed, enrolments and
//! targets stated; the clock then walks through the year, and each
//! activity's results are recorded once it is over. Everything goes
//! through the nodes' gRPC APIs, as each organization's admin, so the
//! reports and the console show real numbers on first start.

use anyhow::Context as _;
use chrono::{DateTime, Datelike as _, Duration, NaiveDate, TimeZone as _, Utc, Weekday};
use edufed_domain::time::Clock;
use edufed_proto::v1 as pb;

use super::load::Admins;
use super::timing::school_year;

/// A school's group registered for a past activity: the school, its
/// grades, how many, and for one occurrence (its index) or the series.
struct Cohort {
    school: &'static str,
    grades: (u32, u32),
    headcount: u32,
    occurrence: Option<usize>,
}

/// One past activity and who came.
struct Past {
    publisher: &'static str,
    title: String,
    kind: pb::ActivityKind,
    direction: pb::Direction,
    subjects: &'static [&'static str],
    grades: (u32, u32),
    capacity: u32,
    zone: &'static str,
    start: chrono::NaiveDateTime,
    minutes: i64,
    rule: Option<String>,
    cohorts: Vec<Cohort>,
}

fn cohort(school: &'static str, grades: (u32, u32), headcount: u32) -> Cohort {
    Cohort {
        school,
        grades,
        headcount,
        occurrence: None,
    }
}

fn at(date: NaiveDate, hour: u32, minute: u32) -> chrono::NaiveDateTime {
    date.and_hms_opt(hour, minute, 0).unwrap_or_default()
}

/// The first `weekday` on or after `from`.
fn first(from: NaiveDate, weekday: Weekday) -> NaiveDate {
    let ahead = (7 + weekday.num_days_from_monday() - from.weekday().num_days_from_monday()) % 7;
    from + Duration::days(i64::from(ahead))
}

fn day(year: i32, month: u32, day: u32) -> anyhow::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
        .with_context(|| format!("no day {year}-{month}-{day}"))
}

/// The activities of the school year starting in September of `year`.
fn year_of(year: i32) -> anyhow::Result<Vec<Past>> {
    let next = year + 1;
    let saturday = first(day(year, 10, 1)?, Weekday::Sat);
    let wednesday = first(day(year, 10, 1)?, Weekday::Wed);
    let robotics = first(day(year, 10, 8)?, Weekday::Sat);
    Ok(vec![
        Past {
            publisher: "tsu",
            title: format!(
                "Олимпиадная подготовка по математике, {year}/{}",
                next % 100
            ),
            kind: pb::ActivityKind::OlympiadPrepCourse,
            direction: pb::Direction::DistanceAndGifted,
            subjects: &["математика"],
            grades: (9, 11),
            capacity: 40,
            zone: "Asia/Tomsk",
            start: at(saturday, 10, 0),
            minutes: 120,
            rule: Some("FREQ=WEEKLY;BYDAY=SA;COUNT=10".to_owned()),
            cohorts: vec![
                cohort("gym24-tomsk", (9, 10), 15),
                cohort("lyceum7-tomsk", (10, 11), 12),
                cohort("gym44-nkz", (9, 11), 10),
                // Three more than the seats left: it waits all autumn.
                cohort("mgml", (10, 10), 6),
            ],
        },
        Past {
            publisher: "imc-tomsk",
            title: format!("Муниципальный этап олимпиады по физике, {year}"),
            kind: pb::ActivityKind::Olympiad,
            direction: pb::Direction::DistanceAndGifted,
            subjects: &["физика"],
            grades: (7, 11),
            capacity: 150,
            zone: "Asia/Tomsk",
            start: at(first(day(year, 11, 14)?, Weekday::Sat), 10, 0),
            minutes: 240,
            rule: None,
            cohorts: vec![
                cohort("gym24-tomsk", (7, 11), 30),
                cohort("lyceum7-tomsk", (8, 11), 25),
                cohort("gym44-nkz", (9, 11), 18),
            ],
        },
        Past {
            publisher: "imc-tomsk",
            title: format!("Городской конкурс переводов (английский язык), {next}"),
            kind: pb::ActivityKind::Contest,
            direction: pb::Direction::DistanceAndGifted,
            subjects: &["английский язык"],
            grades: (9, 11),
            capacity: 60,
            zone: "Asia/Tomsk",
            start: at(first(day(next, 2, 16)?, Weekday::Sat), 11, 0),
            minutes: 180,
            rule: None,
            cohorts: vec![
                cohort("gym24-tomsk", (9, 11), 12),
                cohort("lyceum7-tomsk", (10, 11), 9),
            ],
        },
        Past {
            publisher: "art-museum-tomsk",
            title: "Экскурсия «Сибирская живопись XIX века»".to_owned(),
            kind: pb::ActivityKind::Excursion,
            direction: pb::Direction::Upbringing,
            subjects: &["изобразительное искусство"],
            grades: (5, 9),
            capacity: 25,
            zone: "Asia/Tomsk",
            start: at(wednesday, 11, 0),
            minutes: 90,
            rule: Some("FREQ=MONTHLY;BYDAY=1WE;COUNT=6".to_owned()),
            cohorts: [
                ("gym24-tomsk", 0),
                ("lyceum7-tomsk", 1),
                ("gym24-tomsk", 2),
                ("lyceum7-tomsk", 4),
            ]
            .into_iter()
            .map(|(school, occurrence)| Cohort {
                school,
                grades: (6, 6),
                headcount: 22,
                occurrence: Some(occurrence),
            })
            .collect(),
        },
        Past {
            publisher: "kvantorium-mgn",
            title: "Мастер-класс «Основы робототехники»".to_owned(),
            kind: pb::ActivityKind::MasterClass,
            direction: pb::Direction::Innovation,
            subjects: &["робототехника"],
            grades: (6, 8),
            capacity: 12,
            zone: "Asia/Yekaterinburg",
            start: at(robotics, 12, 0),
            minutes: 120,
            rule: Some("FREQ=MONTHLY;BYDAY=2SA;COUNT=5".to_owned()),
            cohorts: vec![
                Cohort {
                    school: "mgml",
                    grades: (7, 7),
                    headcount: 10,
                    occurrence: Some(0),
                },
                Cohort {
                    school: "school10-mgn",
                    grades: (6, 6),
                    headcount: 8,
                    occurrence: Some(1),
                },
                Cohort {
                    school: "gym53-mgn",
                    grades: (8, 8),
                    headcount: 12,
                    occurrence: Some(2),
                },
            ],
        },
    ])
}

/// Schools' enrolment, as they state it for a school year.
const ENROLMENT: [(&str, u32); 7] = [
    ("gym24-tomsk", 1120),
    ("lyceum7-tomsk", 940),
    ("mgml", 830),
    ("school10-mgn", 710),
    ("gym53-mgn", 960),
    ("school21-mgn", 650),
    ("gym44-nkz", 1010),
];

/// The instant of a local time in `zone`.
fn instant(local: chrono::NaiveDateTime, zone: &str) -> DateTime<Utc> {
    let zone: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
    zone.from_local_datetime(&local)
        .earliest()
        .map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
}

fn local(at: chrono::NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M").to_string()
}

/// Loads the past on the nodes that read `clock`, and lets the clock go
/// back to the present. Returns a line for the demo's summary.
pub(super) async fn load_past(
    admins: &mut Admins<'_>,
    lab: &str,
    clock: &Clock,
    today: NaiveDate,
) -> anyhow::Result<Vec<String>> {
    let first_year = school_year(today) - 1;
    let start = instant(at(day(first_year, 8, 25)?, 9, 0), "Asia/Tomsk");
    clock.set(start);
    let result = load_at(admins, lab, clock, today, first_year).await;
    clock.release();
    result
}

async fn load_at(
    admins: &mut Admins<'_>,
    lab: &str,
    clock: &Clock,
    today: NaiveDate,
    first_year: i32,
) -> anyhow::Result<Vec<String>> {
    let mut pasts = year_of(first_year)?;
    pasts.extend(year_of(first_year + 1)?);
    let cutoff = instant(at(today, 0, 0), "UTC");

    // Published and registered for at the end of August.
    let mut published = Vec::new();
    for past in &pasts {
        let end = past.start + Duration::minutes(past.minutes);
        let activity = admins
            .of(past.publisher)
            .await?
            .calendar()
            .publish_activity(pb::PublishActivityRequest {
                publisher: past.publisher.to_owned(),
                details: Some(pb::ActivityDetails {
                    title: past.title.clone(),
                    description: "Из прошлого демонстрационной сети: проведено, итоги внесены."
                        .to_owned(),
                    kind: past.kind.into(),
                    direction: past.direction.into(),
                    subjects: past.subjects.iter().map(|s| (*s).to_owned()).collect(),
                    audience: Some(pb::Audience {
                        students: Some(pb::GradeRange {
                            min: past.grades.0,
                            max: past.grades.1,
                        }),
                        ..Default::default()
                    }),
                    format: pb::Format::InPerson.into(),
                    place: Some(pb::Place {
                        kind: pb::PlaceKind::AtPublisher.into(),
                        value: String::new(),
                    }),
                    capacity: past.capacity,
                    visibility: pb::Visibility::Public.into(),
                    schedule: Some(pb::Schedule {
                        time_zone: past.zone.to_owned(),
                        start: local(past.start),
                        end: local(end),
                        all_day: false,
                        recurrence: past.rule.clone().map(|rule| pb::Recurrence {
                            rule,
                            ..Default::default()
                        }),
                    }),
                    ..Default::default()
                }),
                draft: false,
            })
            .await
            .with_context(|| format!("cannot publish «{}» in the past", past.title))?
            .into_inner();
        published.push(activity.id);
    }
    // Schools register through their own node, which forwards to the
    // activity's home once it has the activity's copy.
    for (past, id) in pasts.iter().zip(&published) {
        let occurrences = until_seen(admins, past.cohorts.first().map(|c| c.school), id).await?;
        for c in &past.cohorts {
            admins
                .of(c.school)
                .await?
                .calendar()
                .register(pb::RegisterRequest {
                    activity_id: id.clone(),
                    venue: 0,
                    occurrence_start: c
                        .occurrence
                        .and_then(|i| occurrences.get(i))
                        .and_then(|o| o.original_start),
                    cohort: Some(pb::Cohort {
                        organization: c.school.to_owned(),
                        grades: Some(pb::GradeRange {
                            min: c.grades.0,
                            max: c.grades.1,
                        }),
                        headcount: c.headcount,
                        teacher: "Ответственный педагог школы".to_owned(),
                        teacher_contact: String::new(),
                        teachers: false,
                    }),
                })
                .await
                .with_context(|| format!("cannot register {} for «{}»", c.school, past.title))?;
        }
    }

    let mut lessons = book_lessons(admins, lab, first_year).await?;
    let agreement = sign_agreement(admins, first_year).await?;
    state_enrolment_and_targets(admins, first_year).await?;

    // The year goes by: each activity's results once it is over.
    let mut ends: Vec<(DateTime<Utc>, usize)> = pasts
        .iter()
        .enumerate()
        .map(|(i, past)| {
            let count = past
                .rule
                .as_deref()
                .and_then(|r| r.split("COUNT=").nth(1))
                .and_then(|c| c.parse::<i64>().ok())
                .unwrap_or(1);
            let weeks = if past.rule.as_deref().is_some_and(|r| r.contains("MONTHLY")) {
                count * 5
            } else {
                count
            };
            let last = instant(past.start, past.zone) + Duration::weeks(weeks) + Duration::days(1);
            (last, i)
        })
        .collect();
    ends.sort();
    // The second year's lessons are booked in its own August (a booking
    // opens at most 400 days ahead).
    let second_august = instant(at(day(first_year + 1, 8, 25)?, 9, 0), "Asia/Tomsk");
    let mut booked_second = false;
    let mut recorded = 0;
    for (end, i) in ends {
        // What is not over by today waits for its results.
        if end >= cutoff {
            continue;
        }
        if !booked_second && end >= second_august {
            clock.set(second_august);
            lessons += book_lessons(admins, lab, first_year + 1).await?;
            booked_second = true;
        }
        clock.set(end);
        let registrations = admins
            .of(pasts[i].publisher)
            .await?
            .calendar()
            .list_registrations(pb::ListRegistrationsRequest {
                activity_id: published[i].clone(),
            })
            .await?
            .into_inner()
            .registrations;
        for r in registrations
            .iter()
            .filter(|r| r.state() == pb::RegistrationState::Confirmed)
        {
            let headcount = r.cohort.as_ref().map_or(0, |c| c.headcount);
            let attended = headcount - headcount / 8;
            let competitive = matches!(
                pasts[i].kind,
                pb::ActivityKind::Olympiad | pb::ActivityKind::Contest
            );
            let results = if competitive {
                pb::Results {
                    attended,
                    participants: attended,
                    prize_winners: attended / 5,
                    winners: attended / 12,
                }
            } else {
                pb::Results {
                    attended,
                    ..Default::default()
                }
            };
            admins
                .of(pasts[i].publisher)
                .await?
                .calendar()
                .record_results(pb::RecordResultsRequest {
                    registration_id: r.id.clone(),
                    results: Some(results),
                })
                .await
                .with_context(|| format!("cannot record the results of «{}»", pasts[i].title))?;
            recorded += 1;
        }
    }
    if !booked_second && second_august < cutoff {
        clock.set(second_august);
        lessons += book_lessons(admins, lab, first_year + 1).await?;
    }
    let registered: usize = pasts.iter().map(|p| p.cohorts.len()).sum();
    Ok(vec![format!(
        "the past from September {first_year}: {} activities ({registered} cohorts registered, \
         {recorded} with their results), {lessons} lessons of МГМЛ in the technopark's {GUIDE_LAB}, \
         approved; the network-form agreement of МГМЛ and «Кванториум» in force ({agreement}); \
         schools' enrolment and the network's targets",
        pasts.len(),
        GUIDE_LAB = super::seeds::GUIDE_LAB,
    )])
}

/// The occurrences of `activity` once `school`'s node has its copy.
async fn until_seen(
    admins: &mut Admins<'_>,
    school: Option<&str>,
    activity: &str,
) -> anyhow::Result<Vec<pb::Occurrence>> {
    let Some(school) = school else {
        return Ok(Vec::new());
    };
    for _ in 0..300 {
        let found = admins
            .of(school)
            .await?
            .calendar()
            .get_activity(pb::GetActivityRequest {
                activity_id: activity.to_owned(),
            })
            .await;
        match found {
            Ok(found) => return Ok(found.into_inner().occurrences),
            Err(status) if status.code() == tonic::Code::NotFound => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(status) => return Err(status.into()),
        }
    }
    anyhow::bail!("{school}'s node never received activity {activity}")
}

/// МГМЛ's technology lessons in the technopark's lab, twice a week through
/// the school year of `year` (the winter holidays left out), approved by
/// the technopark.
async fn book_lessons(admins: &mut Admins<'_>, lab: &str, year: i32) -> anyhow::Result<usize> {
    // The hub offers the lab once it has the technopark's copy.
    for attempt in 0.. {
        let offered = admins
            .of("mgml")
            .await?
            .booking()
            .list_resources(pb::ListResourcesRequest {
                owner: super::seeds::GUIDE_LAB_OWNER.to_owned(),
                ..Default::default()
            })
            .await
            .context("cannot list the technopark's resources on the hub")?
            .into_inner()
            .resources;
        if offered.iter().any(|r| r.id == lab) {
            break;
        }
        if attempt >= 300 {
            anyhow::bail!("the hub never received the technopark's lab");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut lessons = 0;
    {
        let tuesday = first(day(year, 9, 2)?, Weekday::Tue);
        let until = day(year + 1, 5, 25)?;
        let holidays: Vec<String> = day(year, 12, 29)?
            .iter_days()
            .take_while(|d| *d <= day(year + 1, 1, 8).unwrap_or(*d))
            .filter(|d| matches!(d.weekday(), Weekday::Tue | Weekday::Thu))
            .map(|d| local(at(d, 14, 0)))
            .collect();
        let requested = admins
            .of("mgml")
            .await?
            .booking()
            .request_booking(pb::RequestBookingRequest {
                resource_id: lab.to_owned(),
                requester: "mgml".to_owned(),
                start: local(at(tuesday, 14, 0)),
                end: local(at(tuesday, 15, 30)),
                recurrence: Some(pb::BookingRecurrence {
                    rule: format!(
                        "FREQ=WEEKLY;BYDAY=TU,TH;UNTIL={}T235959Z",
                        until.format("%Y%m%d")
                    ),
                    exdates: holidays,
                }),
                purpose: "Технология, 7 класс (сетевая форма)".to_owned(),
                headcount: 12,
                skip_conflicts: true,
                ..Default::default()
            })
            .await
            .with_context(|| format!("cannot book МГМЛ's lessons of {year}/{}", year + 1))?
            .into_inner();
        let booking = requested.booking.unwrap_or_default();
        admins
            .of(super::seeds::GUIDE_LAB_OWNER)
            .await?
            .booking()
            .approve_booking(pb::DecideBookingRequest {
                booking_id: booking.id.clone(),
                occurrence_start: None,
                comment: "Согласовано: по договору о сетевой форме".to_owned(),
            })
            .await
            .with_context(|| format!("cannot approve МГМЛ's lessons of {year}/{}", year + 1))?;
        lessons += booking.occurrences.len();
    }
    Ok(lessons)
}

/// МГМЛ and «Кванториум» sign a network-form agreement for both years.
async fn sign_agreement(admins: &mut Admins<'_>, first_year: i32) -> anyhow::Result<String> {
    let seed = super::seeds::seeds()?
        .agreements
        .iter()
        .find(|a| a.propose)
        .context("the seeds propose no agreement")?;
    let mut content = super::records::agreement_content(seed, day(first_year, 9, 1)?)?;
    content.title = format!("{} ({first_year}–{})", content.title, first_year + 2);
    content.valid_from = format!("{first_year}-09-01");
    content.valid_to = format!("{}-06-30", first_year + 2);
    content.notes = format!(
        "Срок: с 1 сентября {first_year} по 30 июня {} года. Условно, для демонстрации: \
         подписан сторонами в демонстрационной сети.",
        first_year + 2
    );
    let initiator = seed
        .parties
        .first()
        .map(|p| p.org.clone())
        .context("the agreement has no parties")?;
    let mut client = admins.of(&initiator).await?.agreements();
    let drafted = client
        .draft_agreement(pb::DraftAgreementRequest {
            initiator: initiator.clone(),
            content: Some(content),
        })
        .await
        .context("cannot draft the agreement in force")?
        .into_inner();
    let proposed = client
        .propose_agreement(pb::ProposeAgreementRequest {
            agreement_id: drafted.id.clone(),
            expected_revision: drafted.revision,
        })
        .await
        .context("cannot propose the agreement in force")?
        .into_inner();
    for party in &seed.parties {
        // A party on another node signs once its node has the agreement.
        for attempt in 0.. {
            let seen = admins
                .of(&party.org)
                .await?
                .agreements()
                .get_agreement(pb::GetAgreementRequest {
                    agreement_id: proposed.id.clone(),
                })
                .await;
            match seen {
                Ok(seen) if seen.get_ref().awaiting_version == proposed.awaiting_version => break,
                Ok(_) if attempt < 300 => {}
                Err(status) if status.code() == tonic::Code::NotFound && attempt < 300 => {}
                Ok(_) => anyhow::bail!("{} never saw the proposal", party.org),
                Err(status) => return Err(status).context("cannot read the agreement in force"),
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        admins
            .of(&party.org)
            .await?
            .agreements()
            .sign_agreement(pb::SignAgreementRequest {
                agreement_id: proposed.id.clone(),
                org: party.org.clone(),
                version: proposed.awaiting_version,
                content_hash: String::new(),
            })
            .await
            .with_context(|| format!("cannot sign the agreement in force for {}", party.org))?;
    }
    Ok(format!("{first_year}-09-01 – {}-06-30", first_year + 2))
}

/// Each school states its enrolment for both years; the methodical centre
/// sets the network's targets for this school year's end.
async fn state_enrolment_and_targets(
    admins: &mut Admins<'_>,
    first_year: i32,
) -> anyhow::Result<()> {
    for year in [first_year, first_year + 1] {
        for (school, students) in ENROLMENT {
            let students = if year == first_year {
                students
            } else {
                students + students / 40
            };
            admins
                .of(school)
                .await?
                .reports()
                .set_enrolment(pb::SetEnrolmentRequest {
                    organization: school.to_owned(),
                    school_year: format!("{year}/{:02}", (year + 1) % 100),
                    students,
                })
                .await
                .with_context(|| format!("cannot state the enrolment of {school}"))?;
        }
    }
    for (indicator, value, note) in [
        (
            "network_coverage",
            15.0,
            "Программа развития сети: охват сетевой формой",
        ),
        (
            "winners_share",
            25.0,
            "Программа развития сети: доля победителей и призёров",
        ),
    ] {
        admins
            .of("imc-tomsk")
            .await?
            .reports()
            .set_target(pb::SetTargetRequest {
                indicator: indicator.to_owned(),
                organization: String::new(),
                city: String::new(),
                due: format!("{}-08-31", first_year + 2),
                value,
                note: note.to_owned(),
            })
            .await
            .with_context(|| format!("cannot set the target of {indicator}"))?;
    }
    Ok(())
}
