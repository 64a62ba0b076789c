# The vocabulary of edufed in Russian: every name people read, in the web
# console, the report page, the printable agreement, the iCalendar feeds and
# the command line's tables. A second language is a second file.

## Kinds of activity

activity-kind-olympiad = Олимпиада
activity-kind-olympiad-prep-course = Подготовка к олимпиаде
activity-kind-course = Курс
activity-kind-network-lesson = Урок в сетевой форме
activity-kind-excursion = Экскурсия
activity-kind-master-class = Мастер-класс
activity-kind-conference = Конференция
activity-kind-contest = Конкурс
activity-kind-game = Интеллектуальная игра
activity-kind-profile-camp = Профильная смена
activity-kind-open-day = День открытых дверей
activity-kind-professional-trial = Профессиональная проба
activity-kind-teacher-internship = Стажировка для педагогов
activity-kind-seminar = Семинар
activity-kind-round-table = Круглый стол
activity-kind-festival = Фестиваль
activity-kind-sport = Спортивное мероприятие
activity-kind-other = Другое
activity-kind-mentoring-meeting = Встреча наставника

## Directions of network cooperation

direction-research-and-projects = Исследования и проекты
direction-distance-and-gifted = Дистанционное обучение и одарённые дети
direction-upbringing = Воспитание
direction-sport-and-health = Спорт и здоровье
direction-innovation = Инновации и эксперименты
direction-teacher-development = Развитие педагогов
direction-career-guidance = Профориентация
direction-additional-education = Дополнительное образование

## Formats

format-in-person = Очно
format-online = Дистанционно
format-blended = Смешанно
format-correspondence = Заочно

visibility-public = Всем
visibility-network = Участникам сети
visibility-organization = Только своей организации
visibility-partners = Организации-партнёры

activity-status-draft = Черновик
activity-status-published = Опубликовано
activity-status-cancelled = Отменено
activity-status-completed = Завершено

place-kind-at-publisher = У организатора
place-kind-outbound = Выездное
place-kind-address = По адресу
place-kind-resource = В помещении
place-kind-online = Онлайн

registration-state-confirmed = Подтверждена
registration-state-waitlisted = В листе ожидания
registration-state-withdrawn = Отозвана

## Organizations and people

organization-kind-school = Школа
organization-kind-university = Вуз
organization-kind-college = Колледж
organization-kind-technopark = Технопарк
organization-kind-museum = Музей
organization-kind-theatre = Театр
organization-kind-additional-education = Дополнительное образование
organization-kind-methodical-centre = Методический центр
organization-kind-enterprise = Предприятие
organization-kind-other = Другое

role-admin = Администратор
role-coordinator = Координатор
role-teacher = Педагог
role-viewer = Наблюдатель

session-origin-link = Ссылка для входа
session-origin-openid-connect = Региональный вход

session-end-reason-signed-out = Выход
session-end-reason-ended = Завершён вручную
session-end-reason-membership-removed = Завершён: членство отозвано
session-end-reason-identity-unbound = Завершён: учётная запись отвязана

identity-binding-email = По подтверждённой почте
identity-binding-invitation = По приглашению

## Resources and bookings

resource-kind-room = Кабинет
resource-kind-lab = Лаборатория
resource-kind-hall = Зал
resource-kind-sports-facility = Спортивный объект
resource-kind-equipment = Оборудование
resource-kind-specialist = Специалист
resource-kind-transport = Транспорт
resource-kind-online-room = Онлайн-комната

approval-policy-automatic = Автоматически
approval-policy-approval-required = С согласованием
approval-policy-automatic-for-partners = Партнёрам автоматически

access-own-organization = Своя организация
access-agreement-partners = Партнёры по договорам
access-network = Вся сеть

occurrence-state-held = Удержано
occurrence-state-pending = Ждёт решения
occurrence-state-confirmed = Подтверждено
occurrence-state-rejected = Отклонено
occurrence-state-cancelled = Отменено

cancel-scope-one = Только это занятие
cancel-scope-following = Это и следующие
cancel-scope-all = Все занятия

booking-rule-access = Доступ
booking-rule-approval = Согласование
booking-rule-duration = Длительность
booking-rule-min-duration = Наименьшая длительность
booking-rule-max-duration = Наибольшая длительность
booking-rule-capacity = Вместимость
booking-rule-bookable-hours = Часы бронирования
booking-rule-blackout = Закрытые дни
booking-rule-min-notice = Заблаговременность
booking-rule-max-advance = Горизонт бронирования
booking-rule-series-overlap = Пересечение в серии
booking-rule-agreement = Договор
booking-rule-quota = Квота

## Agreements

agreement-kind-network-form = Сетевая форма реализации программы
agreement-kind-cooperation = Договор о сотрудничестве
agreement-kind-network-interaction = Договор о сетевом взаимодействии
agreement-kind-innovation-site = Инновационная площадка
agreement-kind-other = Другое

agreement-state-draft = Черновик
agreement-state-proposed = На подписании
agreement-state-declined = Отклонён
agreement-state-signed = Подписан
agreement-state-active = Действует
agreement-state-expired = Истёк
agreement-state-terminated = Расторгнут

party-role-base = Базовая организация
party-role-participant = Организация-участник
party-role-resource-provider = Ресурсная организация

part-kind-module = Модуль
part-kind-subject = Учебный предмет
part-kind-practice = Практика

pledge-period-term = На весь срок
pledge-period-school-year = На учебный год
pledge-period-half-year = На полугодие
pledge-period-month = На месяц

## Reports

report-dimension-organization = Организация
report-dimension-publisher = Организатор
report-dimension-direction = Направление
report-dimension-kind = Вид
report-dimension-month = Месяц
report-dimension-grade = Класс
report-dimension-state = Состояние
report-dimension-resource = Ресурс
report-dimension-designation = Статус организатора

indicator-network-coverage = Охват сетевой формой
indicator-winners-share = Доля победителей и призёров
indicator-activities-held = Проведено мероприятий
indicator-agreements-signed = Подписано договоров
indicator-participants-per-activity = Участников на мероприятие
indicator-mentoring-pairs = Наставнических пар и групп
indicator-mentoring-crossing = Доля пар, объединяющих организации
indicator-young-teachers-mentored = Доля молодых специалистов с наставником
indicator-teachers-courses = Доля педагогов, прошедших КПК
indicator-teachers-seminars = Доля педагогов на сетевых семинарах
indicator-teachers-growth-system = Доля педагогов в национальной системе профессионального роста
indicator-trials-per-pupil = Профессиональных проб на ученика в маршрутах
indicator-leavers-oriented = Доля выпускников 9 и 11 классов, выбравших профиль
indicator-leavers-continuing = Доля выпускников, продолжающих обучение по профилю маршрута

## The change log

change-operation-upsert = Запись
change-operation-delete = Удаление

entity-kind-organization = Организация
entity-kind-person = Человек
entity-kind-membership = Членство
entity-kind-api-token = Токен
entity-kind-activity = Мероприятие
entity-kind-activity-seats = Места мероприятия
entity-kind-registration = Заявка
entity-kind-resource = Ресурс
entity-kind-booking = Бронирование
entity-kind-resource-busy = Занятость ресурса
entity-kind-agreement = Договор
entity-kind-peer = Узел
entity-kind-mentoring-programme = Программа наставничества
entity-kind-mentoring-pair = Наставническая пара
entity-kind-trial = Профессиональная проба
entity-kind-designation = Статус организации
entity-kind-route-template = Шаблон маршрута
entity-kind-route = Образовательный маршрут
entity-kind-erasure = Удаление персональных данных

## Calendar words

weekday-1 = понедельник
weekday-2 = вторник
weekday-3 = среда
weekday-4 = четверг
weekday-5 = пятница
weekday-6 = суббота
weekday-7 = воскресенье
weekday-short-1 = пн
weekday-short-2 = вт
weekday-short-3 = ср
weekday-short-4 = чт
weekday-short-5 = пт
weekday-short-6 = сб
weekday-short-7 = вс

month-1 = январь
month-2 = февраль
month-3 = март
month-4 = апрель
month-5 = май
month-6 = июнь
month-7 = июль
month-8 = август
month-9 = сентябрь
month-10 = октябрь
month-11 = ноябрь
month-12 = декабрь
month-of-1 = января
month-of-2 = февраля
month-of-3 = марта
month-of-4 = апреля
month-of-5 = мая
month-of-6 = июня
month-of-7 = июля
month-of-8 = августа
month-of-9 = сентября
month-of-10 = октября
month-of-11 = ноября
month-of-12 = декабря
month-short-1 = янв
month-short-2 = фев
month-short-3 = мар
month-short-4 = апр
month-short-5 = мая
month-short-6 = июн
month-short-7 = июл
month-short-8 = авг
month-short-9 = сен
month-short-10 = окт
month-short-11 = ноя
month-short-12 = дек

grades-all = все классы
grades-range = { $from }–{ $to } классы
grade-one = { $grade } класс
pupils = { $count ->
    [one] { $count } ученик
    [few] { $count } ученика
   *[many] { $count } учеников
}
places = { $count ->
    [one] { $count } место
    [few] { $count } места
   *[many] { $count } мест
}
hours = { $count ->
    [one] { $count } час
    [few] { $count } часа
   *[many] { $count } часов
}

## Time zones people meet in the network

zone-asia-tomsk = Томск
zone-asia-novosibirsk = Новосибирск
zone-asia-novokuznetsk = Новокузнецк
zone-asia-krasnoyarsk = Красноярск
zone-asia-omsk = Омск
zone-asia-barnaul = Барнаул
zone-asia-yekaterinburg = Екатеринбург
zone-asia-irkutsk = Иркутск
zone-asia-yakutsk = Якутск
zone-asia-vladivostok = Владивосток
zone-asia-magadan = Магадан
zone-asia-kamchatka = Камчатка
zone-europe-moscow = Москва
zone-europe-kaliningrad = Калининград
zone-europe-samara = Самара
zone-utc = UTC

## Occurrences and units

occurrence-cancelled = отменено
occurrence-moved = перенесено

unit-hours = ч

## Notifications

notification-kind-registration-confirmed = Группа записана
notification-kind-registration-waitlisted = Группа в листе ожидания
notification-kind-registration-promoted = Группа переведена из листа ожидания
notification-kind-registration-received = Новая запись группы
notification-kind-registration-withdrawn = Группа отозвана
notification-kind-booking-requested = Новая заявка на бронирование
notification-kind-booking-approved = Бронирование подтверждено
notification-kind-booking-rejected = Бронирование отклонено
notification-kind-booking-cancelled = Бронирование отменено
notification-delivery-immediately = Сразу
notification-delivery-digest = В ежедневной сводке
notification-delivery-off = Не присылать
notification-channel-email = Электронная почта
notification-channel-webhook = Вебхук
notification-kind-occurrence-cancelled = Занятие отменено
notification-kind-occurrence-moved = Занятие перенесено
notification-kind-reminder = Напоминание о занятии
notification-kind-agreement-awaiting-signature = Соглашение ждёт подписи
notification-kind-agreement-signed = Соглашение подписано
notification-kind-agreement-declined = Соглашение отклонено
notification-kind-agreement-amended = Изменения соглашения вступили в силу
notification-kind-agreement-terminated = Соглашение расторгается
notification-kind-agreement-expiring = Срок соглашения истекает
notification-kind-booking-hold-lapsing = Предварительная бронь скоро снимется

## Mentoring

mentoring-form-teacher-teacher = Учитель – учитель
mentoring-form-young-teacher = Молодой учитель – опытный учитель
mentoring-form-teacher-student = Учитель – студент педагогического вуза
mentoring-form-student-pupil = Студент – ученик
mentoring-form-pupil-pupil = Ученик – ученик
mentoring-form-teacher-pupil = Учитель – ученик
mentoring-form-employer-pupil = Работодатель – ученик
mentoring-form-employer-student = Работодатель – студент
mentoring-form-leader-project-team = Лидер – проектная команда
mentoring-form-teacher-project-team = Учитель – проектная команда
mentoring-form-reverse = Обратное наставничество
mentoring-form-other = Другая форма
pair-state-planned = Запланирована
pair-state-active = Работает
pair-state-completed = Завершена
pair-state-ended-early = Завершена досрочно
mentoring-result-met = Цель достигнута
mentoring-result-partly = Цель достигнута частично
mentoring-result-not-met = Цель не достигнута
pair-transition-started = начата
pair-transition-completed = завершена
pair-transition-ended-early = завершена досрочно
pair-transition-assessed = оценена
mentoring-participant-kind-adult = Взрослый
mentoring-participant-kind-cohort = Группа учеников
mentoring-participant-kind-pupil = Ученик (по коду)

## What a teacher's growth record is of

growth-kind-course = Курсы повышения квалификации (КПК)
growth-kind-internship = Стажировка
growth-kind-seminar = Семинар, круглый стол, конференция
growth-kind-association = Ассоциация наставников
growth-kind-growth-system = Национальная система профессионального роста

## Professional trials

trial-state-draft = Черновик
trial-state-submitted = На рассмотрении
trial-state-returned = Возвращена на доработку
trial-state-approved = В банке проб
trial-state-refused = Отклонена
trial-state-withdrawn = Отозвана
review-decision-approve = Одобрить
review-decision-return = Вернуть на доработку
review-decision-refuse = Отклонить
trial-step-submit = отправить на рассмотрение
trial-step-revise = изменить программу
trial-step-review = рассмотреть
trial-step-withdraw = отозвать

## Designations

designation-kind-resource-centre = Ресурсный центр
designation-kind-base-site = Базовая площадка
designation-kind-innovation-site = Инновационная площадка
designation-level-international = Международная
designation-level-federal = Федеральная
designation-level-regional = Региональная
designation-level-municipal = Муниципальная

## Learning routes

route-item-status-planned = Запланирован
route-item-status-registered = Записаны
route-item-status-waitlisted = В листе ожидания
route-item-status-requested = Запрошено бронирование
route-item-status-refused = Отказано
route-item-status-attended = Пройден
route-item-status-missed = Пропущен
route-item-status-not-chosen = Не выбран
route-item-status-withdrawn = Отозван
route-state-active = Идёт
route-state-completed = Завершён
route-state-cancelled = Отменён
