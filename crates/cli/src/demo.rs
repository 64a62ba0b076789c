//! `edufed demo`: a local network of three real nodes in one process (a
//! university node, a technopark node and the methodical centre's hub), each
//! with its own SQLite data directory, loaded with the organizations,
//! resources, activities and agreements of the seed documents through the
//! nodes' own gRPC APIs, pinned to each other and following each other's
//! change logs. It prints what to try, then serves until Ctrl-C.
//!
//! The seeds give most facts but not all: where the demo needs a value they
//! do not state (a date, a format, a capacity, a signatory), the record says
//! so in its own text, so that nothing assumed passes for a fact.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{IsTerminal as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use chrono::{Datelike as _, Days, Months, NaiveDate, Utc, Weekday};
use clap::Args;
use edufed_proto::v1 as pb;
use edufed_server::{Node, OPERATOR_TOKEN_FILE, Settings};
use tracing_subscriber::EnvFilter;

use crate::ClientArgs;
use crate::client::Connection;
use crate::output::{Format, to_json};

/// Arguments of `edufed demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the nodes keep their data, the tokens and the demo's record
    /// [default: a new directory in the system's temporary directory, kept].
    /// A directory that holds a demo already is reused as it is.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The university node listens on this loopback port, the technopark
    /// node on the next and the hub on the one after; 0 picks free ports.
    #[arg(long, default_value_t = 50061)]
    base_port: u16,
    /// Exit once the network is ready and the guide is printed, instead of
    /// serving until Ctrl-C.
    #[arg(long)]
    exit_when_ready: bool,
}

/// How long the hub may take to show the university's activities.
const MIRROR_WAIT: Duration = Duration::from_secs(60);
/// The file that records a fully loaded demo directory.
const MANIFEST_FILE: &str = "demo.json";
/// The file that marks a demo directory being loaded.
const LOADING_FILE: &str = "loading";
/// The folder of the organizations' admin tokens.
const TOKENS_DIR: &str = "tokens";
/// The folder of agreement contents, as `edufed agreement draft` reads them.
const AGREEMENTS_DIR: &str = "agreements";

// ---------------------------------------------------------------------------
// The three nodes.

/// One of the demo's nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Site {
    University,
    Technopark,
    Hub,
}

impl Site {
    const ALL: [Site; 3] = [Site::University, Site::Technopark, Site::Hub];

    /// Its data directory's name within the demo directory.
    fn dir_name(self) -> &'static str {
        match self {
            Site::University => "university",
            Site::Technopark => "technopark",
            Site::Hub => "hub",
        }
    }

    /// The name in its descriptor.
    fn node_name(self) -> &'static str {
        match self {
            Site::University => "Университеты сети",
            Site::Technopark => "Детский технопарк «Кванториум»",
            Site::Hub => "Городской узел МАУ ИМЦ",
        }
    }

    /// What it is, for people.
    fn label(self) -> &'static str {
        match self {
            Site::University => "university node",
            Site::Technopark => "technopark node",
            Site::Hub => "hub",
        }
    }

    fn port_offset(self) -> u16 {
        match self {
            Site::University => 0,
            Site::Technopark => 1,
            Site::Hub => 2,
        }
    }

    fn index(self) -> usize {
        usize::from(self.port_offset())
    }

    /// Which node hosts an organization of `kind`: universities their own,
    /// the technopark its own, everyone else the methodical centre's hub.
    fn of(kind: pb::OrganizationKind) -> Site {
        match kind {
            pb::OrganizationKind::University => Site::University,
            pb::OrganizationKind::Technopark => Site::Technopark,
            _ => Site::Hub,
        }
    }
}

// ---------------------------------------------------------------------------
// The seeds' network (shared/network.json), as the demo loads it.

/// An organization of the seeds.
struct OrgSeed {
    slug: &'static str,
    full_name: &'static str,
    short_name: &'static str,
    kind: pb::OrganizationKind,
    city: &'static str,
    time_zone: &'static str,
    inn: &'static str,
    address: &'static str,
    email: &'static str,
}

const fn org(
    slug: &'static str,
    full_name: &'static str,
    short_name: &'static str,
    kind: pb::OrganizationKind,
    (city, time_zone): (&'static str, &'static str),
) -> OrgSeed {
    OrgSeed {
        slug,
        full_name,
        short_name,
        kind,
        city,
        time_zone,
        inn: "",
        address: "",
        email: "",
    }
}

use pb::OrganizationKind as K;

const TOMSK: (&str, &str) = ("Томск", "Asia/Tomsk");
const MGN: (&str, &str) = ("Магнитогорск", "Asia/Yekaterinburg");

#[rustfmt::skip]
const ORGANIZATIONS: &[OrgSeed] = &[
    OrgSeed {
        inn: "7017001894",
        address: "Белозерская ул., 12/1, Томск, 634003",
        email: "gym24@education70.ru",
        ..org("gym24-tomsk", "МАОУ гимназия № 24 им. М.В. Октябрьской г. Томска", "Гимназия №24", K::School, TOMSK)
    },
    org("tsu", "Национальный исследовательский Томский государственный университет", "ТГУ", K::University, TOMSK),
    org("tpu", "Национальный исследовательский Томский политехнический университет", "ТПУ", K::University, TOMSK),
    org("tusur", "Томский государственный университет систем управления и радиоэлектроники", "ТУСУР", K::University, TOMSK),
    org("tspu", "Томский государственный педагогический университет", "ТГПУ", K::University, TOMSK),
    org("tsuab", "Томский государственный архитектурно-строительный университет", "ТГАСУ", K::University, TOMSK),
    org("ssmu", "Сибирский государственный медицинский университет", "СибГМУ", K::University, TOMSK),
    org("imc-tomsk", "МАУ информационно-методический центр г. Томска", "МАУ ИМЦ", K::MethodicalCentre, TOMSK),
    org("rcro-tomsk", "Региональный центр развития образования Томской области", "РЦРО", K::MethodicalCentre, TOMSK),
    org("toipkro", "Томский областной институт повышения квалификации и переподготовки работников образования", "ТОИПКРО", K::AdditionalEducation, TOMSK),
    org("art-museum-tomsk", "Томский областной художественный музей", "Художественный музей", K::Museum, TOMSK),
    org("local-history-museum-tomsk", "Томский областной краеведческий музей", "Краеведческий музей", K::Museum, TOMSK),
    org("skomorokh", "Театр «Скоморох»", "«Скоморох»", K::Theatre, TOMSK),
    org("fakel", "МБОУ ДО Дом детства и юношества «Факел»", "ДДиЮ «Факел»", K::AdditionalEducation, TOMSK),
    org("rgo-tomsk", "Томское областное отделение Русского географического общества", "РГО Томск", K::Other, TOMSK),
    org("britannia", "НОУ «Учебно-экзаменационный лингвистический центр «Британия»", "«Британия»", K::AdditionalEducation, TOMSK),
    org("isdp-peterson", "НОУ ДПО «Институт системно-деятельностной педагогики»", "Институт СДП", K::AdditionalEducation, ("Москва", "Europe/Moscow")),
    org("lyceum7-tomsk", "МАОУ лицей № 7 г. Томска", "Лицей №7", K::School, TOMSK),
    org("mgml", "МОУ «Магнитогорский городской многопрофильный лицей при МГТУ им. Г.И. Носова»", "МГМЛ", K::School, MGN),
    org("kvantorium-mgn", "Детский технопарк «Кванториум» (г. Магнитогорск)", "«Кванториум»", K::Technopark, MGN),
    org("magtu", "ФГБОУ ВО «Магнитогорский государственный технический университет им. Г.И. Носова»", "МГТУ", K::University, MGN),
    org("susu", "ФГАОУ ВО «Южно-Уральский государственный университет (НИУ)»", "ЮУрГУ", K::University, ("Челябинск", "Asia/Yekaterinburg")),
    org("school10-mgn", "МОУ «СОШ № 10» г. Магнитогорска", "СОШ №10", K::School, MGN),
    org("gym53-mgn", "МОУ «Гимназия № 53» г. Магнитогорска", "Гимназия №53", K::School, MGN),
    org("school21-mgn", "МОУ «СОШ № 21» г. Магнитогорска", "СОШ №21", K::School, MGN),
    org("pcdod-mgn", "МУДО «Правобережный центр дополнительного образования детей»", "ПЦДОД", K::AdditionalEducation, MGN),
    org("gym44-nkz", "МБНОУ «Гимназия № 44» г. Новокузнецка", "Гимназия №44", K::School, ("Новокузнецк", "Asia/Novokuznetsk")),
];

/// A bookable resource of the seeds.
struct ResourceSeed {
    owner: &'static str,
    name: &'static str,
    kind: pb::ResourceKind,
    features: &'static [&'static str],
    capacity: u32,
    /// Whether the seeds leave the capacity out (the demo's value is assumed).
    capacity_assumed: bool,
}

/// The technopark's lab a school books in the guide.
const GUIDE_LAB: &str = "IT-квантум";

#[rustfmt::skip]
const RESOURCES: &[ResourceSeed] = &[
    ResourceSeed { owner: "kvantorium-mgn", name: "IT-квантум", kind: pb::ResourceKind::Lab, features: &["веб-разработка", "системное программирование"], capacity: 14, capacity_assumed: true },
    ResourceSeed { owner: "kvantorium-mgn", name: "VR/AR-квантум", kind: pb::ResourceKind::Lab, features: &["3D-моделирование", "360° видео", "VR/AR/MR"], capacity: 12, capacity_assumed: true },
    ResourceSeed { owner: "kvantorium-mgn", name: "Робоквантум", kind: pb::ResourceKind::Lab, features: &["LEGO", "TETRIX", "VEX", "Эвольвектор", "Robotis Bioloid"], capacity: 12, capacity_assumed: true },
    ResourceSeed { owner: "kvantorium-mgn", name: "Хай-тек", kind: pb::ResourceKind::Lab, features: &["CAD", "лазерные технологии", "аддитивные технологии", "электроника"], capacity: 10, capacity_assumed: true },
    ResourceSeed { owner: "gym24-tomsk", name: "Компьютерный класс", kind: pb::ResourceKind::Room, features: &["16 рабочих мест"], capacity: 16, capacity_assumed: false },
    ResourceSeed { owner: "gym24-tomsk", name: "Многофункциональный мобильный актовый зал", kind: pb::ResourceKind::Hall, features: &[], capacity: 200, capacity_assumed: true },
    ResourceSeed { owner: "tusur", name: "Лаборатории и факультеты (экскурсии)", kind: pb::ResourceKind::Lab, features: &[], capacity: 45, capacity_assumed: false },
];

/// Who an activity is for.
#[derive(Clone, Copy)]
enum Audience {
    /// Students of these grades, as the seeds state.
    Grades(u32, u32),
    /// Students of these grades, assumed (the seeds do not state them).
    AssumedGrades(u32, u32),
    /// Teachers.
    Teachers,
    /// Students; the seeds do not say which grades (shown as 1–11).
    Unstated,
}

/// When an activity takes place. Variants named `Next…` are placed in the
/// coming year: the seeds give a month, a season or nothing, not a date.
#[derive(Clone, Copy)]
enum When {
    /// Whole days, `from` to `to` inclusive, `years` years running (1: once).
    /// `stated` is the period the seeds name when they give no days.
    Days {
        from: &'static str,
        to: &'static str,
        years: u32,
        stated: Option<&'static str>,
    },
    /// A one-day event on the days `rule` gives, the first on `first`.
    Rule {
        first: &'static str,
        rule: &'static str,
    },
    /// Lessons: the first one's local start and end, repeated by `rule`;
    /// days and times assumed.
    Lessons {
        start: &'static str,
        end: &'static str,
        rule: &'static str,
    },
    /// The coming months `first` to `last` of the year (held every year then).
    NextMonths { first: u32, last: u32 },
    /// The two coming three-month intakes, autumn and spring.
    NextIntakes,
    /// `days` whole days from the coming `month`/`day`; assumed.
    NextDays { month: u32, day: u32, days: u64 },
    /// The `nth` `weekday` of each month, `count` months from next month; assumed.
    NextMonthly {
        nth: u8,
        weekday: Weekday,
        count: u32,
    },
    /// Every Saturday to the end of the school year.
    NextSaturdays,
}

/// An activity of the seeds.
struct ActivitySeed {
    publisher: &'static str,
    partners: &'static [&'static str],
    title: &'static str,
    kind: pb::ActivityKind,
    /// None: the seeds do not say (in person is assumed).
    format: Option<pb::Format>,
    direction: Option<pb::Direction>,
    subjects: &'static [&'static str],
    audience: Audience,
    capacity: u32,
    /// "Name, position" or a name alone.
    coordinator: &'static str,
    when: When,
    /// Further facts from the seeds for the description.
    facts: &'static str,
}

use pb::ActivityKind as A;

const ACTIVITY: ActivitySeed = ActivitySeed {
    publisher: "",
    partners: &[],
    title: "",
    kind: A::Other,
    format: None,
    direction: None,
    subjects: &[],
    audience: Audience::Unstated,
    capacity: 0,
    coordinator: "",
    when: When::NextDays {
        month: 1,
        day: 1,
        days: 1,
    },
    facts: "",
};

const fn days(from: &'static str, to: &'static str) -> When {
    When::Days {
        from,
        to,
        years: 1,
        stated: None,
    }
}

const fn period(from: &'static str, to: &'static str, stated: &'static str) -> When {
    When::Days {
        from,
        to,
        years: 1,
        stated: Some(stated),
    }
}

#[rustfmt::skip]
const ACTIVITIES: &[ActivitySeed] = &[
    ActivitySeed {
        publisher: "gym24-tomsk", partners: &["rgo-tomsk"],
        title: "Региональная дистанционная метапредметная игра «Страны и континенты: очевидное и невероятное» («Тайны океанов»), игра 1",
        kind: A::Game, format: Some(pb::Format::Online), direction: Some(pb::Direction::DistanceAndGifted), audience: Audience::Grades(6, 11),
        coordinator: "Филатова Анна Борисовна, заместитель директора по НМР, учитель географии",
        when: days("2022-10-22", "2022-11-22"), ..ACTIVITY
    },
    ActivitySeed {
        publisher: "gym24-tomsk", partners: &["rgo-tomsk"],
        title: "Региональная дистанционная метапредметная игра «Страны и континенты: очевидное и невероятное» («Тайны океанов»), игра 2",
        kind: A::Game, format: Some(pb::Format::Online), direction: Some(pb::Direction::DistanceAndGifted), audience: Audience::Grades(6, 11),
        coordinator: "Филатова Анна Борисовна",
        when: days("2023-03-20", "2023-04-20"), ..ACTIVITY
    },
    ActivitySeed {
        publisher: "gym24-tomsk", title: "Городской заочный конкурс переводов (английский язык)",
        kind: A::Contest, format: Some(pb::Format::Correspondence), direction: Some(pb::Direction::CareerGuidance),
        subjects: &["английский язык"], audience: Audience::Grades(9, 11),
        coordinator: "Казак Ольга Геннадьевна, учитель английского языка",
        when: days("2023-02-21", "2023-03-20"), ..ACTIVITY
    },
    ActivitySeed {
        publisher: "gym24-tomsk", title: "Городская викторина «Томск литературный», игра 1 (по рассказам М. Халфиной)",
        kind: A::Game, direction: Some(pb::Direction::DistanceAndGifted), subjects: &["литература"], audience: Audience::Grades(5, 6),
        coordinator: "Белоусова Инна Геннадьевна; Куликова Лилия Геннадьевна",
        when: days("2022-10-22", "2022-11-22"), ..ACTIVITY
    },
    ActivitySeed {
        publisher: "gym24-tomsk", title: "Городская викторина «Томск литературный», игра 2 (по произведениям А. Волкова)",
        kind: A::Game, direction: Some(pb::Direction::DistanceAndGifted), subjects: &["литература"], audience: Audience::Grades(5, 6),
        coordinator: "Белоусова Инна Геннадьевна; Куликова Лилия Геннадьевна",
        when: days("2023-02-20", "2023-03-20"), ..ACTIVITY
    },
    ActivitySeed {
        publisher: "gym24-tomsk", title: "Городская интеллектуальная игра «English Tours»",
        kind: A::Game, subjects: &["английский язык"], audience: Audience::Grades(7, 7),
        coordinator: "Борзова Елена Владимировна, учитель английского языка",
        when: period("2022-10-01", "2022-10-31", "октябрь 2022 года"), ..ACTIVITY
    },
    ActivitySeed {
        publisher: "gym24-tomsk", title: "Городская интеллектуальная игра «В мире английского языка»",
        kind: A::Game, subjects: &["английский язык"], audience: Audience::Grades(3, 3),
        coordinator: "Березина Юлия Юрьевна, учитель английского языка",
        when: period("2022-10-01", "2022-10-31", "октябрь 2022 года"), ..ACTIVITY
    },
    ActivitySeed {
        publisher: "gym24-tomsk", title: "Городской очный естественнонаучный BrainGym (эрудит-квартет)",
        kind: A::Game, format: Some(pb::Format::InPerson), audience: Audience::Grades(7, 8),
        coordinator: "Косовских Владислав Юрьевич, учитель химии",
        when: period("2023-01-01", "2023-12-31", "2023 год"), ..ACTIVITY
    },
    ActivitySeed {
        publisher: "tsu",
        title: "Курсы подготовки к олимпиадам (История, Литература, Русский язык, Английский язык, Математика, Физика, Химия)",
        kind: A::OlympiadPrepCourse, direction: Some(pb::Direction::DistanceAndGifted),
        subjects: &["история", "литература", "русский язык", "английский язык", "математика", "физика", "химия"],
        audience: Audience::AssumedGrades(8, 11), when: When::NextIntakes,
        facts: "Два набора в год, в осеннем и весеннем семестрах, по 3 месяца.", ..ACTIVITY
    },
    ActivitySeed {
        publisher: "tsu", title: "Зимняя физико-математическая школа",
        kind: A::ProfileCamp, subjects: &["физика", "математика"], audience: Audience::Grades(8, 11),
        when: When::NextDays { month: 1, day: 4, days: 7 }, ..ACTIVITY
    },
    ActivitySeed {
        publisher: "tsu", title: "Лето в ТГУ (университетский лагерь)",
        kind: A::ProfileCamp, audience: Audience::Grades(9, 10),
        when: When::NextDays { month: 7, day: 1, days: 14 }, ..ACTIVITY
    },
    ActivitySeed {
        publisher: "tsu", title: "Региональная научно-практическая конференция «Мир науки глазами детей»",
        kind: A::Conference, direction: Some(pb::Direction::ResearchAndProjects), audience: Audience::Grades(2, 11),
        when: When::NextDays { month: 4, day: 15, days: 1 }, ..ACTIVITY
    },
    ActivitySeed {
        publisher: "tpu", title: "Университетские субботы", kind: A::Course, when: When::NextSaturdays, ..ACTIVITY
    },
    ActivitySeed {
        publisher: "tpu", title: "Всероссийская конференция-конкурс «Юные исследователи – науке и технике»",
        kind: A::Conference, when: When::NextMonths { first: 3, last: 3 }, ..ACTIVITY
    },
    ActivitySeed {
        publisher: "tusur", title: "Олимпиады ТУСУР по физике, математике, информатике",
        kind: A::Olympiad, subjects: &["физика", "математика", "информатика"],
        when: When::NextMonths { first: 3, last: 4 }, ..ACTIVITY
    },
    ActivitySeed {
        publisher: "tusur", title: "Экскурсии по лабораториям и факультетам", kind: A::Excursion, capacity: 45,
        when: When::NextMonthly { nth: 3, weekday: Weekday::Wed, count: 6 }, facts: "До 45 человек.", ..ACTIVITY
    },
    ActivitySeed {
        publisher: "tusur", title: "Мастер-классы на базе ТУСУР", kind: A::MasterClass, capacity: 15,
        when: When::NextMonthly { nth: 1, weekday: Weekday::Sat, count: 6 }, facts: "До 15 человек.", ..ACTIVITY
    },
    ActivitySeed {
        publisher: "tusur", title: "«Научная сессия ТУСУР», школьная секция",
        kind: A::Conference, when: When::NextMonths { first: 5, last: 5 }, ..ACTIVITY
    },
    ActivitySeed {
        publisher: "tspu", title: "Интеллектуальные онлайн-конкурсы «Знатор Англии», «Знатор Германии»",
        kind: A::Contest, format: Some(pb::Format::Online), subjects: &["английский язык", "немецкий язык"],
        audience: Audience::Grades(2, 8), when: When::NextMonths { first: 3, last: 3 }, ..ACTIVITY
    },
    ActivitySeed {
        publisher: "tspu", title: "Конкурс переводов среди школьников",
        kind: A::Contest, when: When::NextMonths { first: 11, last: 11 }, ..ACTIVITY
    },
    ActivitySeed {
        publisher: "lyceum7-tomsk", title: "Фестиваль групповых проектов школьников",
        kind: A::Festival, audience: Audience::Grades(5, 11),
        when: When::Rule { first: "2022-02-26", rule: "FREQ=YEARLY;BYMONTH=2;BYDAY=-1SA;COUNT=3" },
        facts: "Ежегодно в последнюю субботу февраля, 2022–2024.", ..ACTIVITY
    },
    ActivitySeed {
        publisher: "lyceum7-tomsk", title: "День наставника «Я – профессионал»",
        kind: A::Seminar, audience: Audience::Teachers,
        when: When::Rule { first: "2022-03-02", rule: "FREQ=YEARLY;BYMONTH=3;BYDAY=1WE;COUNT=3" },
        facts: "Ежегодно в первую среду марта, 2022–2024.", ..ACTIVITY
    },
    ActivitySeed {
        publisher: "lyceum7-tomsk", title: "Региональный фестиваль открытых уроков молодых специалистов",
        kind: A::Festival, audience: Audience::Teachers,
        when: When::Days { from: "2022-04-01", to: "2022-04-30", years: 3, stated: Some("ежегодно в апреле, 2022–2024") },
        ..ACTIVITY
    },
    ActivitySeed {
        publisher: "lyceum7-tomsk", title: "Стажировка «Учусь быть экспертом»",
        kind: A::TeacherInternship, audience: Audience::Teachers,
        when: period("2022-11-01", "2022-11-30", "ноябрь 2022 года"), ..ACTIVITY
    },
    ActivitySeed {
        publisher: "kvantorium-mgn", partners: &["mgml"],
        title: "Технология и Информатика (практическая часть) на базе технопарка",
        kind: A::NetworkLesson, format: Some(pb::Format::InPerson), subjects: &["технология", "информатика"],
        audience: Audience::AssumedGrades(7, 8),
        when: When::Lessons { start: "2019-09-03T14:00", end: "2019-09-03T15:30", rule: "FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20200531T235959Z" },
        facts: "Дважды в неделю в течение 2019–2020 учебного года, для МГМЛ.", ..ACTIVITY
    },
    ActivitySeed {
        publisher: "mgml", partners: &["susu"],
        title: "Многопрофильная инженерная олимпиада «Звезда» (Машиностроение; Техника и технологии наземного транспорта; Электроэнергетика; Авиационная и ракетно-космическая техника; Технологии материалов)",
        kind: A::Olympiad, when: When::NextDays { month: 2, day: 15, days: 1 }, ..ACTIVITY
    },
    ActivitySeed {
        publisher: "mgml", title: "Городской фестиваль по 3D технологиям «3D фишки»", kind: A::Festival,
        when: period("2019-09-01", "2020-05-31", "2019–2020 учебный год"),
        facts: "Более 100 учащихся школ города.", ..ACTIVITY
    },
    ActivitySeed {
        publisher: "mgml", title: "Профильный городской лагерь «Квантум»", kind: A::ProfileCamp,
        when: period("2021-06-01", "2021-08-31", "лето 2021 года"), ..ACTIVITY
    },
    ActivitySeed {
        publisher: "gym44-nkz", title: "Конкурс «Самый классный класс»", kind: A::Contest,
        coordinator: "Фиц Анна Викторовна, заместитель директора по ВР",
        when: When::Days { from: "2022-02-01", to: "2022-02-28", years: 2, stated: Some("февраль 2022 и февраль 2023 года") },
        ..ACTIVITY
    },
];

/// A part of the network-form agreement's programme: (name, hours).
const NETWORK_FORM_PARTS: &[(&str, u32)] = &[("Технология", 68), ("Информатика", 68)];

/// The term of an agreement.
#[derive(Clone, Copy)]
enum Term {
    /// From and to, as the seeds state.
    Dates(&'static str, &'static str),
    /// The school year starting in September of this year.
    SchoolYear(i32),
    /// Not in the seeds: the current school year is assumed.
    Unstated,
}

/// A network agreement of the seeds.
struct AgreementSeed {
    kind: pb::AgreementKind,
    number: &'static str,
    dated: &'static str,
    title: &'static str,
    /// The initiator first.
    parties: &'static [(&'static str, pb::PartyRole)],
    term: Term,
    teachers: u32,
    students: u32,
    /// What the seeds do not state and the demo assumes, besides the term.
    assumed: &'static str,
    /// Drafted with every Article 15 item and proposed for signatures.
    propose: bool,
}

use pb::PartyRole as R;

const AGREEMENT: AgreementSeed = AgreementSeed {
    kind: pb::AgreementKind::Other,
    number: "",
    dated: "",
    title: "",
    parties: &[],
    term: Term::Unstated,
    teachers: 0,
    students: 0,
    assumed: "",
    propose: false,
};

#[rustfmt::skip]
const AGREEMENTS: &[AgreementSeed] = &[
    AgreementSeed {
        kind: pb::AgreementKind::InnovationSite, number: "№031/2020-фип", dated: "2019-12-30",
        title: "Механизмы сохранения лидирующих позиций РФ в области качества математического образования (Инновационная методическая сеть «Учусь учиться»)",
        parties: &[("gym24-tomsk", R::Participant), ("isdp-peterson", R::Participant)],
        term: Term::Dates("2019-12-30", "2024-12-31"), teachers: 14, students: 539, ..AGREEMENT
    },
    AgreementSeed {
        kind: pb::AgreementKind::InnovationSite, number: "№314-мип", dated: "2020-04-30",
        title: "Развитие современных механизмов и технологий общего образования на основе деятельностного метода Л.Г. Петерсон",
        parties: &[("gym24-tomsk", R::Participant), ("isdp-peterson", R::Participant)],
        term: Term::Dates("2020-04-30", "2022-12-31"), teachers: 46, students: 709, ..AGREEMENT
    },
    AgreementSeed {
        kind: pb::AgreementKind::Cooperation, number: "№1", dated: "2021-09-01",
        title: "Муниципальная сетевая площадка «Молодой специалист»",
        parties: &[("gym24-tomsk", R::Participant), ("imc-tomsk", R::Participant)],
        term: Term::Dates("2021-09-01", "2024-05-30"), teachers: 20,
        assumed: "Вторая сторона (МАУ ИМЦ): источник называет муниципальный приказ №568-р, а не сторону договора.",
        ..AGREEMENT
    },
    AgreementSeed {
        kind: pb::AgreementKind::NetworkForm,
        title: "Городская программа воспитания и дополнительного образования детей «Фабрика добра» в сетевой форме",
        parties: &[("gym24-tomsk", R::Participant), ("fakel", R::Participant)], ..AGREEMENT
    },
    AgreementSeed {
        kind: pb::AgreementKind::NetworkForm,
        title: "Договор о сетевой форме реализации общеобразовательной программы: «Технология», «Информатика»",
        parties: &[("mgml", R::Base), ("kvantorium-mgn", R::Participant)],
        term: Term::SchoolYear(2020),
        assumed: "Часы (по 68 на предмет), классы (7–8), подписанты и тексты разделов договора; границы учебного года.",
        propose: true, ..AGREEMENT
    },
    AgreementSeed {
        kind: pb::AgreementKind::Cooperation, title: "Ресурсная поддержка; ресурсный центр «Физика и машиностроение»",
        parties: &[("mgml", R::Participant), ("magtu", R::Participant)], ..AGREEMENT
    },
    AgreementSeed {
        kind: pb::AgreementKind::NetworkInteraction, title: "Ресурсный центр по направлению «Робототехника»",
        parties: &[("mgml", R::Participant), ("school10-mgn", R::Participant)], ..AGREEMENT
    },
    AgreementSeed {
        kind: pb::AgreementKind::NetworkInteraction, title: "Ресурсный центр по направлению «IT-технологии»",
        parties: &[("mgml", R::Participant), ("gym53-mgn", R::Participant)], ..AGREEMENT
    },
    AgreementSeed {
        kind: pb::AgreementKind::NetworkInteraction, title: "Методическая сеть со школами-партнёрами",
        parties: &[("mgml", R::Participant), ("school21-mgn", R::Participant)], ..AGREEMENT
    },
];

fn seed_org(slug: &str) -> anyhow::Result<&'static OrgSeed> {
    ORGANIZATIONS
        .iter()
        .find(|o| o.slug == slug)
        .ok_or_else(|| anyhow!("the demo's data names no organization {slug}"))
}

// ---------------------------------------------------------------------------
// Dates.

fn date(raw: &str) -> anyhow::Result<NaiveDate> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .with_context(|| format!("{raw:?} is not a date like 2022-10-22"))
}

fn first_of(year: i32, month: u32) -> anyhow::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(|| anyhow!("no month {year}-{month}"))
}

fn plus_months(day: NaiveDate, months: u32) -> anyhow::Result<NaiveDate> {
    day.checked_add_months(Months::new(months))
        .ok_or_else(|| anyhow!("{day} plus {months} months is out of range"))
}

fn plus_days(day: NaiveDate, days: u64) -> anyhow::Result<NaiveDate> {
    day.checked_add_days(Days::new(days))
        .ok_or_else(|| anyhow!("{day} plus {days} days is out of range"))
}

/// The school year (its September's year) that `today` falls in.
fn school_year(today: NaiveDate) -> i32 {
    if today.month() >= 9 {
        today.year()
    } else {
        today.year() - 1
    }
}

fn rrule_weekday(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

const MONTHS_RU: [&str; 12] = [
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
];

fn month_name(month: u32) -> &'static str {
    let index = usize::try_from(month.clamp(1, 12) - 1).unwrap_or(0);
    MONTHS_RU[index]
}

/// All-day local start (a date) of `day`.
fn day_start(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// An all-day schedule from `from` to `until` (exclusive), optionally repeating.
fn all_day(from: NaiveDate, until: NaiveDate, recurrence: Option<pb::Recurrence>) -> pb::Schedule {
    pb::Schedule {
        time_zone: String::new(),
        start: day_start(from),
        end: day_start(until),
        all_day: true,
        recurrence,
    }
}

fn rule(rule: String, rdates: Vec<String>) -> Option<pb::Recurrence> {
    Some(pb::Recurrence {
        rule,
        exdates: Vec::new(),
        rdates,
    })
}

impl When {
    /// The schedule, in the publisher's zone; the period the seeds state
    /// when they give no days; and what of the schedule is assumed.
    fn schedule(self, today: NaiveDate) -> anyhow::Result<Timing> {
        let (schedule, assumed) = match self {
            When::Days {
                from,
                to,
                years,
                stated,
            } => {
                let until = plus_days(date(to)?, 1)?;
                let recurrence = (years > 1).then(|| format!("FREQ=YEARLY;COUNT={years}"));
                (
                    all_day(
                        date(from)?,
                        until,
                        recurrence.and_then(|r| rule(r, Vec::new())),
                    ),
                    stated.map(|_| "Дни в источнике не указаны: показан весь период.".to_owned()),
                )
            }
            When::Rule { first, rule: r } => {
                let first = date(first)?;
                (
                    all_day(first, plus_days(first, 1)?, rule(r.to_owned(), Vec::new())),
                    None,
                )
            }
            When::Lessons {
                start,
                end,
                rule: r,
            } => (
                pb::Schedule {
                    time_zone: String::new(),
                    start: start.to_owned(),
                    end: end.to_owned(),
                    all_day: false,
                    recurrence: rule(r.to_owned(), Vec::new()),
                },
                Some("Дни и время занятий условны.".to_owned()),
            ),
            When::NextMonths { first, last } => {
                let mut year = today.year();
                let (from, until) = loop {
                    let from = first_of(year, first)?;
                    let until = plus_months(first_of(year, last)?, 1)?;
                    if until > today {
                        break (from, until);
                    }
                    year += 1;
                };
                let months = if first == last {
                    month_name(first).to_owned()
                } else {
                    format!("{}–{}", month_name(first), month_name(last))
                };
                return Ok(Timing {
                    schedule: all_day(from, until, None),
                    stated: Some(format!("Проводится ежегодно: {months}.")),
                    assumed: Some(
                        "Дни в источнике не указаны: показан ближайший такой период целиком."
                            .to_owned(),
                    ),
                });
            }
            When::NextIntakes => {
                let mut starts = Vec::new();
                for year in today.year() - 1..=today.year() + 1 {
                    starts.push(first_of(year, 2)?);
                    starts.push(first_of(year, 9)?);
                }
                let mut coming = Vec::new();
                for start in starts {
                    if plus_months(start, 3)? > today {
                        coming.push(start);
                    }
                }
                let (Some(first), Some(second)) = (coming.first(), coming.get(1)) else {
                    bail!("no coming intake after {today}");
                };
                (
                    all_day(
                        *first,
                        plus_months(*first, 3)?,
                        rule(
                            "FREQ=YEARLY;COUNT=1".to_owned(),
                            vec![format!("{}T00:00", day_start(*second))],
                        ),
                    ),
                    Some(
                        "Месяцы начала наборов (сентябрь, февраль) и занятия по субботам условны."
                            .to_owned(),
                    ),
                )
            }
            When::NextDays { month, day, days } => {
                let soon = plus_days(today, 7)?;
                let mut year = today.year();
                let from = loop {
                    let from = NaiveDate::from_ymd_opt(year, month, day)
                        .ok_or_else(|| anyhow!("no date {year}-{month}-{day}"))?;
                    if from > soon {
                        break from;
                    }
                    year += 1;
                };
                (
                    all_day(from, plus_days(from, days)?, None),
                    Some("Даты условны: источник их не называет.".to_owned()),
                )
            }
            When::NextMonthly {
                nth,
                weekday,
                count,
            } => {
                let next = plus_months(first_of(today.year(), today.month())?, 1)?;
                let first =
                    NaiveDate::from_weekday_of_month_opt(next.year(), next.month(), weekday, nth)
                        .ok_or_else(|| anyhow!("no weekday {nth} of {next}"))?;
                (
                    all_day(
                        first,
                        plus_days(first, 1)?,
                        rule(
                            format!(
                                "FREQ=MONTHLY;BYDAY={nth}{};COUNT={count}",
                                rrule_weekday(weekday)
                            ),
                            Vec::new(),
                        ),
                    ),
                    Some("Даты условны: источник их не называет.".to_owned()),
                )
            }
            When::NextSaturdays => {
                let mut first = plus_days(today, 1)?;
                while first.weekday() != Weekday::Sat {
                    first = plus_days(first, 1)?;
                }
                let mut end_year = school_year(first) + 1;
                let mut last = NaiveDate::from_ymd_opt(end_year, 5, 31)
                    .ok_or_else(|| anyhow!("no 31 May {end_year}"))?;
                if last < plus_days(first, 28)? {
                    end_year += 1;
                    last = NaiveDate::from_ymd_opt(end_year, 5, 31)
                        .ok_or_else(|| anyhow!("no 31 May {end_year}"))?;
                }
                let weeks = (last - first).num_days() / 7 + 1;
                (
                    all_day(
                        first,
                        plus_days(first, 1)?,
                        rule(format!("FREQ=WEEKLY;BYDAY=SA;COUNT={weeks}"), Vec::new()),
                    ),
                    Some("По субботам; период (до конца учебного года) условен.".to_owned()),
                )
            }
        };
        let stated = match self {
            When::Days {
                stated: Some(s), ..
            } => Some(format!("Сроки: {s}.")),
            _ => None,
        };
        Ok(Timing {
            schedule,
            stated,
            assumed,
        })
    }
}

/// When an activity takes place, as published.
struct Timing {
    schedule: pb::Schedule,
    /// The period the seeds state, when they give no days.
    stated: Option<String>,
    /// What of the schedule the demo assumes.
    assumed: Option<String>,
}

// ---------------------------------------------------------------------------
// Building requests from the seeds.

fn activity_details(
    seed: &ActivitySeed,
    today: NaiveDate,
    orgs: &BTreeMap<String, LoadedOrg>,
) -> anyhow::Result<pb::ActivityDetails> {
    let Timing {
        schedule,
        stated,
        assumed,
    } = seed
        .when
        .schedule(today)
        .with_context(|| format!("the schedule of «{}»", seed.title))?;
    let mut assumed: Vec<String> = assumed.into_iter().collect();
    if seed.format.is_none() {
        assumed.push("Формат (очный) условен.".to_owned());
    }
    let students = match seed.audience {
        Audience::Grades(min, max) => Some(pb::GradeRange { min, max }),
        Audience::AssumedGrades(min, max) => {
            assumed.push(format!("Классы ({min}–{max}) условны."));
            Some(pb::GradeRange { min, max })
        }
        Audience::Unstated => {
            assumed.push("Классы в источнике не указаны: показаны 1–11.".to_owned());
            Some(pb::GradeRange { min: 1, max: 11 })
        }
        Audience::Teachers => None,
    };
    let mut description = [Some(seed.facts.to_owned()), stated]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if !assumed.is_empty() {
        if !description.is_empty() {
            description.push('\n');
        }
        description.push_str("Условно, для демонстрации: ");
        description.push_str(&assumed.join(" "));
    }
    let coordinator = (!seed.coordinator.is_empty()).then(|| {
        let (name, position) = seed
            .coordinator
            .split_once(", ")
            .unwrap_or((seed.coordinator, ""));
        pb::Coordinator {
            name: name.to_owned(),
            position: position.to_owned(),
            contact: String::new(),
        }
    });
    let mut partners = Vec::new();
    for slug in seed.partners {
        let org = orgs
            .get(*slug)
            .with_context(|| format!("partner {slug} of «{}» was not loaded", seed.title))?;
        partners.push(org.id.clone());
    }
    Ok(pb::ActivityDetails {
        title: seed.title.to_owned(),
        description,
        kind: seed.kind.into(),
        direction: seed.direction.map_or(0, Into::into),
        subjects: seed.subjects.iter().map(|s| (*s).to_owned()).collect(),
        audience: Some(pb::Audience {
            students,
            teachers: matches!(seed.audience, Audience::Teachers),
            parents: false,
            university_students: false,
        }),
        format: seed.format.unwrap_or(pb::Format::InPerson).into(),
        place: Some(pb::Place {
            kind: pb::PlaceKind::AtPublisher.into(),
            value: String::new(),
        }),
        coordinator,
        partner_organization_ids: partners,
        capacity: seed.capacity,
        visibility: pb::Visibility::Public.into(),
        schedule: Some(schedule),
        ..Default::default()
    })
}

fn agreement_content(
    seed: &AgreementSeed,
    today: NaiveDate,
) -> anyhow::Result<pb::AgreementContent> {
    let mut notes = Vec::new();
    let (from, to) = match seed.term {
        Term::Dates(from, to) => (from.to_owned(), to.to_owned()),
        Term::SchoolYear(year) => {
            notes.push(format!("Срок: {year}–{} учебный год.", year + 1));
            (format!("{year}-09-01"), format!("{}-08-31", year + 1))
        }
        Term::Unstated => {
            let year = school_year(today);
            notes.push(format!(
                "Срок в источнике не указан; условно — {year}–{} учебный год.",
                year + 1
            ));
            (format!("{year}-09-01"), format!("{}-08-31", year + 1))
        }
    };
    if !seed.assumed.is_empty() {
        notes.push(format!("Условно, для демонстрации: {}", seed.assumed));
    }
    let mut parties = Vec::new();
    for (slug, role) in seed.parties {
        let signatory = if seed.propose {
            Some(pb::Signatory {
                name: format!(
                    "ФИО не указано в источнике ({})",
                    seed_org(slug)?.short_name
                ),
                position: "руководитель организации".to_owned(),
                basis: "Устава".to_owned(),
            })
        } else {
            None
        };
        parties.push(pb::Party {
            org: (*slug).to_owned(),
            role: (*role).into(),
            signatory,
        });
    }
    let mut content = pb::AgreementContent {
        kind: seed.kind.into(),
        number: seed.number.to_owned(),
        dated: seed.dated.to_owned(),
        title: seed.title.to_owned(),
        valid_from: from,
        valid_to: to,
        parties,
        planned_teachers: seed.teachers,
        planned_students: seed.students,
        ..Default::default()
    };
    if seed.propose {
        let (Some((base, _)), Some((participant, _))) = (seed.parties.first(), seed.parties.get(1))
        else {
            bail!(
                "«{}» needs a base organization and a participant",
                seed.title
            );
        };
        content.programme = Some(pb::Programme {
            name: "Общеобразовательная программа: «Технология», «Информатика»".to_owned(),
            kind: "основная общеобразовательная".to_owned(),
            level: "основное общее образование".to_owned(),
            focus: "техническая".to_owned(),
            parts: NETWORK_FORM_PARTS
                .iter()
                .map(|(name, hours)| pb::ProgrammePart {
                    kind: pb::PartKind::Subject.into(),
                    name: (*name).to_owned(),
                    hours: *hours,
                    grade_min: 7,
                    grade_max: 8,
                })
                .collect(),
        });
        content.students = Some(pb::Students {
            status: "Обучающиеся базовой организации; в организацию-участника не зачисляются."
                .to_owned(),
            admission: "Группы формирует базовая организация.".to_owned(),
            grade_min: 7,
            grade_max: 8,
            planned_headcount: 0,
        });
        content.duties = NETWORK_FORM_PARTS
            .iter()
            .map(|(name, hours)| pb::Duty {
                org: (*participant).to_owned(),
                part: (*name).to_owned(),
                hours: *hours,
                description: format!(
                    "Проводит практическую часть учебного предмета «{name}» на базе технопарка силами своих педагогов."
                ),
            })
            .chain(std::iter::once(pb::Duty {
                org: (*base).to_owned(),
                part: String::new(),
                hours: 0,
                description: "Формирует группы и проводит промежуточную аттестацию.".to_owned(),
            }))
            .collect();
        content.documents = vec![pb::CompletionDocument {
            name: "Документ об освоении части программы в сетевой форме".to_owned(),
            issuer: (*base).to_owned(),
        }];
        content.amendment_procedure =
            "Дополнительным соглашением, подписанным всеми сторонами.".to_owned();
        content.termination_procedure =
            "По соглашению сторон или по уведомлению одной из сторон.".to_owned();
    }
    content.notes = notes.join("\n");
    Ok(content)
}

// ---------------------------------------------------------------------------
// Running the nodes.

/// A running node of the demo.
struct DemoNode {
    site: Site,
    node: Node,
    url: String,
    operator_token_file: PathBuf,
    operator_token: String,
}

impl DemoNode {
    fn node_id(&self) -> &str {
        self.node.node_id()
    }
}

/// Connects to `url` with `token`, as the client subcommands do.
async fn connect(url: &str, token: &str) -> anyhow::Result<Connection> {
    Connection::open(&ClientArgs {
        server: url.to_owned(),
        token: Some(token.to_owned()),
        token_file: None,
        ca_cert: None,
        output: Format::Table,
    })
    .await
}

async fn start_node(dir: &Path, site: Site, base_port: u16) -> anyhow::Result<DemoNode> {
    let port = if base_port == 0 {
        0
    } else {
        base_port
            .checked_add(site.port_offset())
            .context("--base-port leaves no room for three ports")?
    };
    let data_dir = dir.join(site.dir_name());
    let settings = Settings {
        listen: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        data_dir: data_dir.clone(),
        node_name: site.node_name().to_owned(),
        shutdown_grace_secs: 5,
        ..Settings::default()
    };
    let (node, report) = Node::start(settings).await.with_context(|| {
        format!(
            "cannot start the {} in {} (another --base-port may help)",
            site.label(),
            data_dir.display()
        )
    })?;
    let operator_token_file = report
        .operator_token_file
        .unwrap_or_else(|| data_dir.join(OPERATOR_TOKEN_FILE));
    let operator_token = match std::fs::read_to_string(&operator_token_file) {
        Ok(token) => token.trim().to_owned(),
        Err(error) => {
            node.stop().await.ok();
            return Err(error).with_context(|| {
                format!(
                    "cannot read the operator token {}",
                    operator_token_file.display()
                )
            });
        }
    };
    let url = node.url();
    Ok(DemoNode {
        site,
        node,
        url,
        operator_token_file,
        operator_token,
    })
}

/// Stops every node, in parallel, and waits for them.
async fn stop_all(nodes: Vec<DemoNode>) {
    for n in &nodes {
        n.node.shutdown_token().cancel();
    }
    for n in nodes {
        if let Err(error) = n.node.wait().await {
            tracing::warn!(node = n.site.label(), error = %format!("{error:#}"), "node did not stop cleanly");
        }
    }
}

// ---------------------------------------------------------------------------
// Loading.

/// An organization as loaded.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct LoadedOrg {
    id: String,
    node: String,
    short_name: String,
}

/// What a loaded demo directory records, for the guide and for reuse.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Manifest {
    /// By slug.
    organizations: BTreeMap<String, LoadedOrg>,
    /// The lab the guide books: (id, name).
    lab_id: String,
    lab_name: String,
    /// The cross-node agreement the guide signs, if its node took it.
    agreement_id: Option<String>,
    /// Where its content is, for `edufed agreement draft`.
    agreement_file: PathBuf,
    /// What was loaded, in lines for people.
    summary: Vec<String>,
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

fn token_file(dir: &Path, slug: &str) -> PathBuf {
    dir.join(TOKENS_DIR).join(format!("{slug}.token"))
}

/// Connections as each organization's admin, opened on first use.
struct Admins<'a> {
    dir: &'a Path,
    nodes: &'a [DemoNode],
    orgs: &'a BTreeMap<String, LoadedOrg>,
    open: HashMap<String, Connection>,
}

impl Admins<'_> {
    async fn of(&mut self, slug: &str) -> anyhow::Result<&Connection> {
        if !self.open.contains_key(slug) {
            let org = self
                .orgs
                .get(slug)
                .with_context(|| format!("organization {slug} was not loaded"))?;
            let node = self
                .nodes
                .iter()
                .find(|n| n.site.dir_name() == org.node)
                .with_context(|| format!("no node {}", org.node))?;
            let path = token_file(self.dir, slug);
            let token = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let conn = connect(&node.url, token.trim()).await?;
            self.open.insert(slug.to_owned(), conn);
        }
        self.open
            .get(slug)
            .with_context(|| format!("no connection for {slug}"))
    }
}

/// Creates the organizations, each with an admin and the admin's token.
async fn load_organizations(
    dir: &Path,
    nodes: &[DemoNode],
) -> anyhow::Result<BTreeMap<String, LoadedOrg>> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir.join(TOKENS_DIR))
        .with_context(|| format!("cannot create {}", dir.join(TOKENS_DIR).display()))?;
    let mut operators = Vec::new();
    for n in nodes {
        operators.push(connect(&n.url, &n.operator_token).await?);
    }
    let mut orgs = BTreeMap::new();
    for seed in ORGANIZATIONS {
        let site = Site::of(seed.kind);
        let mut directory = operators[site.index()].directory();
        let created = directory
            .create_organization(pb::CreateOrganizationRequest {
                slug: seed.slug.to_owned(),
                kind: seed.kind.into(),
                full_name: seed.full_name.to_owned(),
                short_name: seed.short_name.to_owned(),
                city: seed.city.to_owned(),
                time_zone: seed.time_zone.to_owned(),
                contacts: Some(pb::Contacts {
                    email: seed.email.to_owned(),
                    phone: String::new(),
                    website: String::new(),
                    address: seed.address.to_owned(),
                }),
                inn: seed.inn.to_owned(),
            })
            .await
            .with_context(|| format!("cannot create organization {}", seed.slug))?
            .into_inner();
        let member = directory
            .add_member(pb::AddMemberRequest {
                organization: seed.slug.to_owned(),
                person: Some(pb::add_member_request::Person::NewPerson(pb::NewPerson {
                    display_name: format!("Администратор ({})", seed.short_name),
                    email: String::new(),
                })),
                role: pb::Role::Admin.into(),
            })
            .await
            .with_context(|| format!("cannot add an admin to {}", seed.slug))?
            .into_inner();
        let person_id = member.person.map(|p| p.id).unwrap_or_default();
        let secret = directory
            .create_token(pb::CreateTokenRequest {
                person_id,
                name: "edufed demo".to_owned(),
                ttl: None,
            })
            .await
            .with_context(|| format!("cannot issue a token for the admin of {}", seed.slug))?
            .into_inner()
            .secret;
        write_private(&token_file(dir, seed.slug), &format!("{secret}\n"))?;
        orgs.insert(
            seed.slug.to_owned(),
            LoadedOrg {
                id: created.id,
                node: site.dir_name().to_owned(),
                short_name: seed.short_name.to_owned(),
            },
        );
    }
    Ok(orgs)
}

/// Pins every node on every other (again where a node's URL changed) and
/// subscribes each to the others' change logs.
async fn federate(nodes: &[DemoNode]) -> anyhow::Result<()> {
    for from in nodes {
        let conn = connect(&from.url, &from.operator_token).await?;
        let mut federation = conn.federation();
        let pinned = federation
            .list_peers(pb::ListPeersRequest {})
            .await
            .with_context(|| format!("cannot list the peers of the {}", from.site.label()))?
            .into_inner()
            .peers;
        for to in nodes.iter().filter(|n| n.site != from.site) {
            let known = pinned
                .iter()
                .filter_map(|p| p.descriptor.as_ref())
                .find(|d| d.node_id == to.node_id());
            match known {
                Some(d) if d.url == to.url => continue,
                Some(_) => {
                    federation
                        .remove_peer(pb::RemovePeerRequest {
                            node_id: to.node_id().to_owned(),
                        })
                        .await
                        .with_context(|| {
                            format!("cannot unpin the {}'s old address", to.site.label())
                        })?;
                }
                None => {}
            }
            federation
                .add_peer(pb::AddPeerRequest {
                    url: to.url.clone(),
                    fingerprint: to.node_id().to_owned(),
                })
                .await
                .with_context(|| {
                    format!(
                        "the {} cannot pin the {}",
                        from.site.label(),
                        to.site.label()
                    )
                })?;
        }
    }
    // A peer serves only nodes that pinned it, so subscribe once all are pinned.
    for from in nodes {
        let conn = connect(&from.url, &from.operator_token).await?;
        let mut federation = conn.federation();
        for to in nodes.iter().filter(|n| n.site != from.site) {
            match federation
                .subscribe(pb::SubscribeRequest {
                    node_id: to.node_id().to_owned(),
                    entity_kinds: Vec::new(),
                    via: String::new(),
                    activity_filter: None,
                })
                .await
            {
                Ok(_) => {}
                Err(status) if status.code() == tonic::Code::AlreadyExists => {}
                Err(status) => {
                    return Err(status).with_context(|| {
                        format!(
                            "the {} cannot subscribe to the {}",
                            from.site.label(),
                            to.site.label()
                        )
                    });
                }
            }
        }
    }
    Ok(())
}

/// Loads a fresh demo directory and records it.
async fn load(dir: &Path, nodes: &[DemoNode], today: NaiveDate) -> anyhow::Result<Manifest> {
    let orgs = load_organizations(dir, nodes).await?;
    federate(nodes).await?;
    let mut admins = Admins {
        dir,
        nodes,
        orgs: &orgs,
        open: HashMap::new(),
    };
    let mut summary = Vec::new();

    let per_node = |site: Site| orgs.values().filter(|o| o.node == site.dir_name()).count();
    summary.push(format!(
        "{} organizations ({} on the university node, {} on the technopark node, {} on the hub), each with an admin and the admin's token",
        orgs.len(),
        per_node(Site::University),
        per_node(Site::Technopark),
        per_node(Site::Hub),
    ));

    let mut lab_id = None;
    let mut resources = Vec::new();
    for seed in RESOURCES {
        let created = admins
            .of(seed.owner)
            .await?
            .booking()
            .create_resource(pb::CreateResourceRequest {
                owner: seed.owner.to_owned(),
                resource: Some(pb::Resource {
                    kind: seed.kind.into(),
                    name: seed.name.to_owned(),
                    capacity: seed.capacity,
                    features: seed.features.iter().map(|f| (*f).to_owned()).collect(),
                    approval: pb::ApprovalPolicy::ApprovalRequired.into(),
                    access: pb::Access::Network.into(),
                    ..Default::default()
                }),
            })
            .await
            .with_context(|| format!("cannot add resource {} of {}", seed.name, seed.owner))?
            .into_inner();
        if seed.owner == "kvantorium-mgn" && seed.name == GUIDE_LAB {
            lab_id = Some(created.id.clone());
        }
        resources.push(format!(
            "{} ({} places{})",
            seed.name,
            seed.capacity,
            if seed.capacity_assumed {
                ", assumed"
            } else {
                ""
            }
        ));
    }
    let lab_id = lab_id.with_context(|| format!("the technopark has no {GUIDE_LAB}"))?;
    summary.push(format!(
        "{} resources, open to the network, the owner approving requests: {}",
        resources.len(),
        resources.join(", ")
    ));

    let mut university_activities = 0;
    for seed in ACTIVITIES {
        let details = activity_details(seed, today, &orgs)?;
        admins
            .of(seed.publisher)
            .await?
            .calendar()
            .publish_activity(pb::PublishActivityRequest {
                publisher: seed.publisher.to_owned(),
                details: Some(details),
                draft: false,
            })
            .await
            .with_context(|| format!("cannot publish «{}» of {}", seed.title, seed.publisher))?;
        if orgs
            .get(seed.publisher)
            .is_some_and(|o| o.node == Site::University.dir_name())
        {
            university_activities += 1;
        }
    }
    summary.push(format!(
        "{} public activities with the seeds' dates and grades ({university_activities} of the universities); \
         where the seeds give no date or grades, the activity's description says what is assumed",
        ACTIVITIES.len()
    ));

    std::fs::create_dir_all(dir.join(AGREEMENTS_DIR))
        .with_context(|| format!("cannot create {}", dir.join(AGREEMENTS_DIR).display()))?;
    let (mut drafted, mut proposed, mut across) = (0, 0, 0);
    let mut skipped = Vec::new();
    let mut agreement_id = None;
    let mut agreement_file = PathBuf::new();
    for seed in AGREEMENTS {
        let content = agreement_content(seed, today)?;
        let Some((initiator, _)) = seed.parties.first() else {
            bail!("«{}» has no parties", seed.title);
        };
        let home = |slug: &str| orgs.get(slug).map(|o| o.node.clone());
        let cross_node = seed
            .parties
            .iter()
            .any(|(slug, _)| home(slug) != home(initiator));
        let file = dir.join(AGREEMENTS_DIR).join(format!(
            "{}.json",
            seed.parties
                .iter()
                .map(|(slug, _)| *slug)
                .collect::<Vec<_>>()
                .join("+")
        ));
        write_private(&file, &format!("{}\n", to_json(&content, true)))?;
        if seed.propose {
            agreement_file = file.clone();
        }
        let mut client = admins.of(initiator).await?.agreements();
        let agreement = match client
            .draft_agreement(pb::DraftAgreementRequest {
                initiator: (*initiator).to_owned(),
                content: Some(content),
            })
            .await
        {
            Ok(agreement) => agreement.into_inner(),
            Err(status) if cross_node => {
                skipped.push(format!(
                    "«{}» ({}): the initiator's node refused a party on another node ({:?}: {})",
                    seed.title,
                    seed.parties
                        .iter()
                        .map(|(slug, _)| *slug)
                        .collect::<Vec<_>>()
                        .join(" and "),
                    status.code(),
                    status.message()
                ));
                continue;
            }
            Err(status) => {
                return Err(status).with_context(|| {
                    format!("cannot draft «{}» on {initiator}'s node", seed.title)
                });
            }
        };
        if cross_node {
            across += 1;
        }
        if seed.propose {
            client
                .propose_agreement(pb::ProposeAgreementRequest {
                    agreement_id: agreement.id.clone(),
                    expected_revision: agreement.revision,
                })
                .await
                .with_context(|| format!("cannot propose «{}»", seed.title))?;
            proposed += 1;
            agreement_id = Some(agreement.id);
        } else {
            drafted += 1;
        }
    }
    summary.push(format!(
        "{} agreements: {drafted} drafts, {proposed} proposed for signatures \
         ({across} of them with a party on another node, on the initiator's node){}",
        AGREEMENTS.len(),
        if skipped.is_empty() {
            String::new()
        } else {
            format!("; {} skipped", skipped.len())
        }
    ));
    summary.extend(skipped.into_iter().map(|s| format!("  skipped {s}")));

    let manifest = Manifest {
        organizations: orgs.clone(),
        lab_id,
        lab_name: GUIDE_LAB.to_owned(),
        agreement_id,
        agreement_file,
        summary,
    };
    let json = serde_json::to_string_pretty(&manifest).context("cannot record the demo")?;
    write_private(&dir.join(MANIFEST_FILE), &format!("{json}\n"))?;
    Ok(manifest)
}

// ---------------------------------------------------------------------------
// Waiting for the hub's calendar.

fn timestamp(at: chrono::DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}

/// The ids of the activities of `publishers` (organization ids) that a
/// node's calendar shows from `from` to `to`, its own and mirrored alike.
async fn calendar_ids(
    conn: &Connection,
    publishers: &BTreeSet<String>,
    from: chrono::DateTime<Utc>,
    to: chrono::DateTime<Utc>,
) -> anyhow::Result<BTreeSet<String>> {
    let mut calendar = conn.calendar();
    let mut ids = BTreeSet::new();
    let mut page_token = String::new();
    loop {
        let page = calendar
            .list_occurrences(pb::ListOccurrencesRequest {
                from: Some(timestamp(from)),
                to: Some(timestamp(to)),
                page_size: 500,
                page_token: page_token.clone(),
                ..Default::default()
            })
            .await?
            .into_inner();
        ids.extend(
            page.occurrences
                .into_iter()
                .filter_map(|o| o.activity)
                .filter(|a| publishers.contains(&a.publisher_id))
                .map(|a| a.id),
        );
        if page.next_page_token.is_empty() {
            return Ok(ids);
        }
        page_token = page.next_page_token;
    }
}

/// Waits until the hub's calendar shows every activity of the university
/// node's organizations that the university node's calendar shows in the
/// coming year; returns how many.
async fn await_mirrors(
    university: &DemoNode,
    hub: &DemoNode,
    orgs: &BTreeMap<String, LoadedOrg>,
) -> anyhow::Result<usize> {
    let publishers: BTreeSet<String> = orgs
        .values()
        .filter(|o| o.node == Site::University.dir_name())
        .map(|o| o.id.clone())
        .collect();
    let from = Utc::now();
    let to = from + chrono::Duration::days(365);
    let source = connect(&university.url, &university.operator_token).await?;
    let expected = calendar_ids(&source, &publishers, from, to)
        .await
        .context("cannot read the university node's calendar")?;
    let mirror = connect(&hub.url, &hub.operator_token).await?;
    let started = Instant::now();
    loop {
        let seen = calendar_ids(&mirror, &publishers, from, to)
            .await
            .context("cannot read the hub's calendar")?;
        if expected.is_subset(&seen) {
            return Ok(expected.len());
        }
        if started.elapsed() > MIRROR_WAIT {
            let status = mirror
                .federation()
                .list_subscriptions(pb::ListSubscriptionsRequest {})
                .await
                .ok()
                .and_then(|r| {
                    r.into_inner()
                        .subscriptions
                        .into_iter()
                        .find(|s| s.node_id == university.node_id())
                });
            let why = status
                .map(|s| {
                    if s.last_error.is_empty() {
                        format!("link {}", if s.connected { "up" } else { "down" })
                    } else {
                        s.last_error
                    }
                })
                .unwrap_or_else(|| "no subscription".to_owned());
            bail!(
                "the hub's calendar shows {} of the university's {} activities after {} s ({why})",
                expected.intersection(&seen).count(),
                expected.len(),
                MIRROR_WAIT.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

// ---------------------------------------------------------------------------
// The guide.

/// A word for a POSIX shell: as it is when it is safe, else single-quoted.
fn sh(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=+@%,".contains(c));
    if safe {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn sh_path(path: &Path) -> String {
    sh(&path.display().to_string())
}

/// The next `weekday` at least two days after `today`.
fn next_weekday(today: NaiveDate, weekday: Weekday) -> anyhow::Result<NaiveDate> {
    let mut day = plus_days(today, 2)?;
    while day.weekday() != weekday {
        day = plus_days(day, 1)?;
    }
    Ok(day)
}

fn guide(
    dir: &Path,
    nodes: &[DemoNode],
    manifest: &Manifest,
    mirrored: usize,
    today: NaiveDate,
) -> anyhow::Result<String> {
    use std::fmt::Write as _;
    let node = |site: Site| &nodes[site.index()];
    let (university, technopark, hub) = (
        node(Site::University),
        node(Site::Technopark),
        node(Site::Hub),
    );
    let token = |slug: &str| sh_path(&token_file(dir, slug));
    let mut out = String::new();
    writeln!(out)?;
    writeln!(
        out,
        "Nodes (plain http on loopback; data in {}):",
        sh_path(dir)
    )?;
    for n in nodes {
        let hosted: Vec<&str> = ORGANIZATIONS
            .iter()
            .filter_map(|seed| manifest.organizations.get(seed.slug))
            .filter(|o| o.node == n.site.dir_name())
            .map(|o| o.short_name.as_str())
            .collect();
        writeln!(
            out,
            "  {:<16} {}  {}\n  {:<16} node id {}\n  {:<16} hosts {}",
            n.site.label(),
            n.url,
            n.site.node_name(),
            "",
            n.node_id(),
            "",
            hosted.join(", ")
        )?;
    }
    writeln!(out)?;
    writeln!(out, "Loaded through the nodes' gRPC APIs:")?;
    for line in &manifest.summary {
        writeln!(out, "  {line}")?;
    }
    writeln!(
        out,
        "  every node pins the other two by their node id and follows their change logs;"
    )?;
    writeln!(
        out,
        "  the hub's calendar shows all {mirrored} of the university node's activities of the coming year"
    )?;
    writeln!(out)?;
    writeln!(out, "Tokens (files, mode 0600):")?;
    for n in nodes {
        writeln!(
            out,
            "  operator of the {:<16} {}",
            n.site.label(),
            sh_path(&n.operator_token_file)
        )?;
    }
    writeln!(
        out,
        "  each organization's admin        {}/{TOKENS_DIR}/<slug>.token",
        sh_path(dir)
    )?;
    writeln!(out)?;
    writeln!(out, "What to try:")?;
    writeln!(out)?;
    writeln!(
        out,
        "1. The hub's calendar shows the universities' courses, olympiads and excursions,\n   \
         mirrored from the university node, next to the hub's own (as Гимназия №24):"
    )?;
    writeln!(
        out,
        "     export EDUFED_SERVER={} EDUFED_TOKEN_FILE={}",
        hub.url,
        token("gym24-tomsk")
    )?;
    let year_on = plus_days(today, 365)?;
    writeln!(
        out,
        "     edufed activity list --from {today} --to {year_on} --grade 9 --all"
    )?;
    writeln!(out, "     edufed ics url --grade 9")?;
    writeln!(
        out,
        "     edufed peer status --server {} --token-file {}",
        hub.url,
        sh_path(&hub.operator_token_file)
    )?;
    writeln!(out)?;
    let tuesday = next_weekday(today, Weekday::Tue)?;
    writeln!(
        out,
        "2. A school on the hub (МГМЛ) books the technopark's {} (resource {});\n   \
         the hub forwards the request to the technopark node, whose admin approves it:",
        manifest.lab_name, manifest.lab_id
    )?;
    writeln!(
        out,
        "     edufed booking request --server {} --token-file {} \\\n       \
         --resource {} --requester mgml --purpose {} --headcount 12 \\\n       \
         --start {tuesday}T14:00 --end {tuesday}T15:30",
        hub.url,
        token("mgml"),
        manifest.lab_id,
        sh("Технология, 7 класс"),
    )?;
    writeln!(
        out,
        "     edufed booking approve <booking id> --server {} --token-file {}",
        technopark.url,
        token("kvantorium-mgn")
    )?;
    writeln!(out)?;
    match &manifest.agreement_id {
        Some(id) => {
            writeln!(
                out,
                "3. The network-form agreement of МГМЛ (hub) and «Кванториум» (technopark node),\n   \
                 proposed on the hub as {id}, is signed by both; the technopark's\n   \
                 signature goes through its own node, which forwards it to the hub (its term,\n   \
                 the 2020–2021 school year, is over, so once signed it shows as expired):"
            )?;
        }
        None => {
            writeln!(
                out,
                "3. The network-form agreement of МГМЛ (hub) and «Кванториум» (technopark node):\n   \
                 the hub refused its remote party when the demo loaded it, so draft and propose it\n   \
                 from its file, then both sign; the technopark's signature goes through its own\n   \
                 node, which forwards it to the hub (its term, the 2020–2021 school year, is over,\n   \
                 so once signed it shows as expired):"
            )?;
            writeln!(
                out,
                "     edufed agreement draft --initiator mgml --file {} --server {} --token-file {}",
                sh_path(&manifest.agreement_file),
                hub.url,
                token("mgml")
            )?;
            writeln!(
                out,
                "     edufed agreement propose <agreement id> --server {} --token-file {}",
                hub.url,
                token("mgml")
            )?;
        }
    }
    let id = manifest
        .agreement_id
        .clone()
        .unwrap_or_else(|| "<agreement id>".to_owned());
    writeln!(
        out,
        "     edufed agreement sign {id} --org mgml --server {} --token-file {}",
        hub.url,
        token("mgml")
    )?;
    writeln!(
        out,
        "     edufed agreement sign {id} --org kvantorium-mgn --server {} --token-file {}",
        technopark.url,
        token("kvantorium-mgn")
    )?;
    writeln!(
        out,
        "     edufed agreement show {id} --server {} --token-file {}",
        hub.url,
        token("mgml")
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "4. The methodical centre's reports count the hub's own records and what it mirrors\n   \
         of the university and technopark nodes (CSV and JSON with --format):"
    )?;
    let hub_operator = sh_path(&hub.operator_token_file);
    for name in ["activities", "agreements", "indicators"] {
        writeln!(
            out,
            "     edufed report {name} --network --from {today} --to {year_on} --server {} --token-file {hub_operator}",
            hub.url
        )?;
    }
    writeln!(
        out,
        "     edufed target set network_coverage 15 --org mgml --due {} --server {} --token-file {}",
        plus_days(today, 280)?,
        hub.url,
        token("mgml")
    )?;
    writeln!(
        out,
        "   and in a browser (any name, a token as the password):\n     {}/reports?scope=network&from={today}&to={year_on}",
        hub.url
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "The university node ({}) and the technopark node answer the same commands with\n\
         their own organizations' tokens, e.g. {}.",
        university.url,
        token("tusur")
    )?;
    Ok(out)
}

// ---------------------------------------------------------------------------
// The command.

fn init_logging() {
    // Quiet by default, so that the guide stands out; EDUFED_LOG as for
    // serve. Links to peers are left out too, and with them the worker
    // runner's errors (a link going down is one; so would be any worker's):
    // a reused demo's nodes first try their peers' old ports, and the demo
    // reports a link that does not come up itself (as `edufed peer status`
    // does).
    let filter = std::env::var("EDUFED_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| {
            EnvFilter::new("warn,edufed_federation::sync=error,edufed_worker=error")
        });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// SIGINT (Ctrl-C) and SIGTERM, registered once.
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> anyhow::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?,
            terminate: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
        })
    }

    async fn next(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

/// Whether `dir` holds a loaded demo (`Some`), or may take a new one (`None`).
fn existing(dir: &Path) -> anyhow::Result<Option<Manifest>> {
    let path = dir.join(MANIFEST_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let manifest = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a demo's record", path.display()))?;
            Ok(Some(manifest))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            // Nodes that started but were never loaded are fine to load now;
            // a load that began and did not finish cannot be resumed.
            if dir.join(LOADING_FILE).exists() {
                bail!(
                    "{} holds a demo whose loading did not finish; remove it or give another --dir",
                    dir.display()
                );
            }
            Ok(None)
        }
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// A new directory in the system's temporary directory.
fn fresh_dir() -> anyhow::Result<PathBuf> {
    let base = std::env::temp_dir();
    for _ in 0..16 {
        let dir = base.join(format!("edufed-demo-{:08x}", rand::random::<u32>()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(error) => {
                return Err(error).with_context(|| format!("cannot create {}", dir.display()));
            }
        }
    }
    bail!("cannot find a free directory name in {}", base.display())
}

/// Loads (or finds loaded), federates, waits for the mirrors, and returns the guide.
async fn prepare(
    dir: &Path,
    nodes: &[DemoNode],
    found: Option<Manifest>,
    today: NaiveDate,
) -> anyhow::Result<String> {
    let started = Instant::now();
    let manifest = match found {
        Some(manifest) => {
            federate(nodes).await?;
            manifest
        }
        None => {
            let marker = dir.join(LOADING_FILE);
            write_private(&marker, "")?;
            let manifest = load(dir, nodes, today).await?;
            std::fs::remove_file(&marker)
                .with_context(|| format!("cannot remove {}", marker.display()))?;
            manifest
        }
    };
    let mirrored = await_mirrors(
        &nodes[Site::University.index()],
        &nodes[Site::Hub.index()],
        &manifest.organizations,
    )
    .await?;
    tracing::info!(elapsed_ms = started.elapsed().as_millis(), "demo ready");
    guide(dir, nodes, &manifest, mirrored, today)
}

/// Runs `edufed demo`.
pub async fn demo(args: DemoArgs) -> anyhow::Result<()> {
    init_logging();
    let mut signals = Signals::new()?;
    let dir = match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            dir.clone()
        }
        None => fresh_dir()?,
    };
    let dir =
        std::fs::canonicalize(&dir).with_context(|| format!("cannot resolve {}", dir.display()))?;
    let found = existing(&dir)?;
    if found.is_some() {
        println!("reusing the demo in {}", dir.display());
    } else {
        println!("starting a demo network in {}", dir.display());
    }

    let mut nodes = Vec::new();
    for site in Site::ALL {
        match start_node(&dir, site, args.base_port).await {
            Ok(node) => nodes.push(node),
            Err(error) => {
                stop_all(nodes).await;
                return Err(error);
            }
        }
    }

    let today = Utc::now().date_naive();
    let ready = tokio::select! {
        ready = prepare(&dir, &nodes, found, today) => ready,
        () = signals.next() => Err(anyhow!("interrupted before the demo was ready")),
    };
    let guide = match ready {
        Ok(guide) => guide,
        Err(error) => {
            stop_all(nodes).await;
            return Err(error);
        }
    };
    print!("{guide}");
    if args.exit_when_ready {
        println!();
        println!("ready; stopping the nodes (--exit-when-ready)");
    } else {
        println!();
        println!("Serving; press Ctrl-C to stop the nodes (the directory stays for next time).");
        std::io::stdout().flush().ok();
        signals.next().await;
        println!("stopping the nodes; press Ctrl-C again to exit at once");
        tokio::spawn(async move {
            signals.next().await;
            std::process::exit(130);
        });
    }
    std::io::stdout().flush().ok();
    stop_all(nodes).await;
    Ok(())
}
