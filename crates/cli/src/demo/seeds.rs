//! The seeds' network (shared/network.json), as the demo loads it.

use anyhow::anyhow;
use chrono::Weekday;
use edufed_proto::v1 as pb;

/// An organization of the seeds.
pub(super) struct OrgSeed {
    pub(super) slug: &'static str,
    pub(super) full_name: &'static str,
    pub(super) short_name: &'static str,
    pub(super) kind: pb::OrganizationKind,
    pub(super) city: &'static str,
    pub(super) time_zone: &'static str,
    pub(super) inn: &'static str,
    pub(super) address: &'static str,
    pub(super) email: &'static str,
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
pub(super) const ORGANIZATIONS: &[OrgSeed] = &[
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
pub(super) struct ResourceSeed {
    pub(super) owner: &'static str,
    pub(super) name: &'static str,
    pub(super) kind: pb::ResourceKind,
    pub(super) features: &'static [&'static str],
    pub(super) capacity: u32,
    /// Whether the seeds leave the capacity out (the demo's value is assumed).
    pub(super) capacity_assumed: bool,
}

/// The technopark's lab a school books in the guide.
pub(super) const GUIDE_LAB: &str = "IT-квантум";

#[rustfmt::skip]
pub(super) const RESOURCES: &[ResourceSeed] = &[
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
pub(super) enum Audience {
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
pub(super) enum When {
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
pub(super) struct ActivitySeed {
    pub(super) publisher: &'static str,
    pub(super) partners: &'static [&'static str],
    pub(super) title: &'static str,
    pub(super) kind: pb::ActivityKind,
    /// None: the seeds do not say (in person is assumed).
    pub(super) format: Option<pb::Format>,
    pub(super) direction: Option<pb::Direction>,
    pub(super) subjects: &'static [&'static str],
    pub(super) audience: Audience,
    pub(super) capacity: u32,
    /// "Name, position" or a name alone.
    pub(super) coordinator: &'static str,
    pub(super) when: When,
    /// Further facts from the seeds for the description.
    pub(super) facts: &'static str,
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
pub(super) const ACTIVITIES: &[ActivitySeed] = &[
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
pub(super) const NETWORK_FORM_PARTS: &[(&str, u32)] = &[("Технология", 68), ("Информатика", 68)];

/// The term of an agreement.
#[derive(Clone, Copy)]
pub(super) enum Term {
    /// From and to, as the seeds state.
    Dates(&'static str, &'static str),
    /// The school year starting in September of this year.
    SchoolYear(i32),
    /// Not in the seeds: the current school year is assumed.
    Unstated,
}

/// A network agreement of the seeds.
pub(super) struct AgreementSeed {
    pub(super) kind: pb::AgreementKind,
    pub(super) number: &'static str,
    pub(super) dated: &'static str,
    pub(super) title: &'static str,
    /// The initiator first.
    pub(super) parties: &'static [(&'static str, pb::PartyRole)],
    pub(super) term: Term,
    pub(super) teachers: u32,
    pub(super) students: u32,
    /// What the seeds do not state and the demo assumes, besides the term.
    pub(super) assumed: &'static str,
    /// Drafted with every Article 15 item and proposed for signatures.
    pub(super) propose: bool,
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
pub(super) const AGREEMENTS: &[AgreementSeed] = &[
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

pub(super) fn seed_org(slug: &str) -> anyhow::Result<&'static OrgSeed> {
    ORGANIZATIONS
        .iter()
        .find(|o| o.slug == slug)
        .ok_or_else(|| anyhow!("the demo's data names no organization {slug}"))
}
