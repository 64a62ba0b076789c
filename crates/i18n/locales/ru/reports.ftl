# The methodical centre's reports in the console: indicators against
# targets, the four reports, their charts and CSV files, enrolments and
# targets.

## The frame of every report

reports-tabs = Отчёты
reports-tab-indicators = Показатели
reports-tab-activities = Мероприятия
reports-tab-participation = Участие
reports-tab-agreements = Договоры
reports-tab-resources = Ресурсы
reports-tab-mentoring = Наставничество
reports-filter = Период и охват отчёта
reports-from = Начало периода
reports-to = Конец периода
reports-scope = Охват
reports-scope-node = Организации этого узла
reports-scope-network = Вся сеть
reports-scope-cities = Города
reports-scope-organizations = Организации
reports-scope-city-named = Город { $city }
reports-group-by = Группировать по
reports-apply = Показать
reports-presets = Быстрый выбор:
reports-school-year = { $year } учебный год
reports-period = с { $from } по { $to }
reports-csv = Скачать таблицу (CSV)
reports-empty = За этот период и в этом охвате данных нет.
reports-none = —
reports-no-direction = Без направления
reports-total = Итого
reports-whole-scope = Весь охват

## Indicators

reports-indicators-title = Показатели сети
reports-indicators-explain = Значения за период, в сравнении с прошлым периодом (для учебного года — с прошлым учебным годом) и с целями, действующими на конец периода.
reports-targets-link = Цели и численность учащихся
reports-targets-link-edit = Задать цели и численность учащихся
reports-indicators-overall = Показатели по всему охвату
reports-indicators-by-organization = Показатели по организациям
reports-chart-indicators = Показатели относительно целей
reports-legend-value = значение
reports-legend-target = цель
reports-value-of-target = { $value } из { $target }
reports-col-indicator = Показатель
reports-col-organization = Организация
reports-col-value = Значение
reports-col-unit = Единица
reports-col-numerator = Числитель
reports-col-denominator = Знаменатель
reports-col-previous = Прошлый период
reports-col-trend = Динамика
reports-col-target = Цель
reports-col-due = Срок
reports-col-gap = До цели
reports-due = к
reports-no-value = нет данных
reports-no-target = не задана
reports-target-reached = Цель достигнута
reports-gap = осталось { $gap }
reports-points = п. п.
reports-basis = { $numerator } из { $denominator }
reports-unit-activities-held = мероприятий
reports-unit-agreements-signed = договоров
reports-unit-participants-per-activity = учеников на мероприятие
reports-unit-mentoring-pairs = пар и групп
reports-unit-trials-per-pupil = проб на ученика

## Activities

reports-activities-title = Совместные мероприятия
reports-activities-explain = Мероприятия и их занятия за период: проведённые, предстоящие и отменённые; часы проведённых занятий.
reports-chart-activities = Занятия по месяцам
reports-legend-held = проведено
reports-legend-scheduled = впереди
reports-legend-cancelled = отменено
reports-chart-occurrences = проведено { $held }, впереди { $scheduled }, отменено { $cancelled }
reports-col-activities-held = Мероприятий проведено
reports-col-activities-cancelled = Мероприятий отменено
reports-col-occurrences-held = Занятий проведено
reports-col-occurrences-scheduled = Занятий впереди
reports-col-occurrences-cancelled = Занятий отменено
reports-col-hours-held = Часов проведено

## Participation

reports-participation-title = Участие
reports-participation-explain = Группы учеников, записанные на мероприятия: сколько пришло, участвовало и заняло призовые места. Отчёт считает группы, а не детей: личных данных в нём нет.
reports-chart-participation = Ученики по направлениям
reports-legend-registered = записано
reports-legend-attended = пришли
reports-chart-pupils = записано { $registered }, пришли { $attended }
reports-col-cohorts = Групп
reports-col-registered = Учеников записано
reports-col-attended = Пришли
reports-col-participants = Участвовали
reports-col-prize-winners = Призёров
reports-col-winners = Победителей
reports-col-cohorts-with-results = Групп с результатами
reports-col-waitlisted-cohorts = Групп в листе ожидания
reports-col-waitlisted = Учеников в листе ожидания

## Agreements

reports-agreements-title = Сетевые договоры
reports-agreements-explain = Договоры, действующие в периоде или ещё не вступившие в силу: сколько вступило в силу, сколько скоро истекает, часы и ученики по плану и на деле.
reports-chart-agreements = Договоры по состояниям
reports-col-agreements = Договоров
reports-col-signed-in-period = Вступили в силу за период
reports-col-expiring-soon = Скоро истекают
reports-col-planned-hours = Часов по плану
reports-col-delivered-hours = Часов проведено
reports-col-scheduled-hours = Часов впереди
reports-col-planned-students = Учеников по плану
reports-col-students-reached = Учеников охвачено
reports-col-agreement-attended = Из них пришли

## Resources

reports-resources-title = Загрузка ресурсов
reports-resources-explain = Забронированные часы против часов, когда ресурс можно забронировать (часы работы без закрытых дней).
reports-chart-resources = Загрузка по месяцам
reports-busiest = Самые загруженные
reports-idlest = Наименее загруженные
reports-col-resources = Ресурсов
reports-col-bookable-hours = Часов доступно
reports-col-booked-hours = Часов забронировано
reports-col-utilization = Загрузка
reports-col-bookings = Бронирований

## Targets and enrolments

targets-title = Цели и численность учащихся
targets-back = К показателям
targets-explain = Цели, с которыми сравниваются показатели, и численность учащихся, от которой считается охват сетевой формой.
targets-list = Цели
targets-none = Целей пока нет.
targets-for = Для кого
targets-note = Основание
targets-remove = Удалить
targets-set = Задать цель
targets-value = Значение цели
targets-due = Достичь к
targets-save = Сохранить цель
targets-saved = Цель сохранена.
targets-removed = Цель удалена.
enrolment-list = Численность учащихся
enrolment-explain = Сколько учеников в организации в учебном году: знаменатель охвата сетевой формой.
enrolment-none = Численность пока не указана.
enrolment-year = Учебный год
enrolment-students = Учащихся
enrolment-set = Указать численность
enrolment-save = Сохранить численность
enrolment-saved = Численность сохранена.
reports-rows-shown = Строки { $from }–{ $to } из { $count }; все строки — в файле CSV.
reports-rows-pages = Страницы таблицы
reports-rows-previous = ← Предыдущие
reports-rows-next = Следующие →

reports-mentoring-title = Наставничество
reports-col-pairs = Пар и групп
reports-col-pairs-active = Работают
reports-col-pairs-completed = Завершены
reports-col-pairs-ended-early = Досрочно
reports-col-pairs-crossing = Между организациями
reports-col-pairs-crossing-share = Доля между организациями
reports-col-mentees = Наставляемых
reports-col-goal-met = Цель достигнута
reports-col-goal-partly = Частично
reports-col-goal-not-met = Не достигнута
reports-col-pairs-previous = В прошлом периоде
reports-mentoring-explain = Наставнические пары и группы, работавшие в периоде, по формам наставничества: сколько объединяют людей разных организаций, сколько человек наставляется, итоги завершённых пар и число пар в прошлом периоде. Считаются пары, а не люди: имена в отчёт не попадают.
reports-chart-mentoring = Пары по состояниям
reports-teachers = Педагоги и их профессиональный рост (учебный год начала периода)
reports-col-teachers = Педагогов
reports-col-young-teachers = Молодых специалистов
reports-col-young-mentored = Молодых с наставником
reports-col-courses = Прошли КПК
reports-col-seminars = На сетевых семинарах
reports-col-association = В ассоциации наставников
reports-col-growth-system = В национальной системе роста
reports-col-courses-recorded = КПК по личным записям педагогов
reports-col-seminar-visits = Посещений семинаров сети (по заявкам)
reports-grade-teachers = Педагоги
reports-no-designation = Без статуса
