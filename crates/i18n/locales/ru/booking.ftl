# The web console's words for booking: the network's resources, a
# resource's week and the request form, one booking, and the inbox.

## Resources

resources-title = Ресурсы сети
resources-explain = Лаборатории, залы, кабинеты и оборудование, которые ваша организация может забронировать.
resources-filters = Поиск ресурсов
resources-kind = Вид
resources-any-kind = Любой
resources-features = Оснащение
resources-features-hint = Через запятую, например: 3D-принтеры, ноутбуки
resources-query = Название или слово
resources-capacity = Мест не меньше
resources-apply = Показать
resources-empty = Ничего не найдено. Измените условия поиска.
resources-name = Ресурс
resources-owner = Владелец
resources-capacity-column = Мест
resources-hours = Часы работы
resources-approval = Согласование
resources-unlimited = без ограничения
resources-always = в любое время
resources-inbox-link = Заявки на бронирование
resources-own-link = Наши заявки
resources-found = { $count ->
    [one] Найден { $count } ресурс
    [few] Найдено { $count } ресурса
   *[many] Найдено { $count } ресурсов
}

## One resource and its week

resource-back = К списку ресурсов
resource-kind = Вид
resource-owner = Владелец
resource-capacity = Вместимость
resource-features = Оснащение
resource-hours = Часы работы
resource-approval = Как решаются заявки
resource-access = Кому доступен
resource-duration = Длительность занятия
resource-duration-value = от { $min } до { $max } мин
resource-buffer = Перерыв после занятия
resource-notice = Заявка не позже чем за
resource-minutes = { $count } мин
resource-blackout = Закрыт
resource-zone = Часовой пояс
resource-inbox = Заявки на ресурсы вашей организации
resource-week = Занятость по неделям
resource-weeks = Выбор недели
resource-week-caption = Неделя с { $from } по { $to }. Время местное: { $zone }.
resource-previous-week = Предыдущая неделя
resource-next-week = Следующая неделя
resource-this-week = Текущая неделя
resource-time = Время
resource-week-legend = «Занято» — время уже забронировано, вместе с перерывом после занятия. Заявки, ещё ждущие решения, здесь не показаны.
slot-free = свободно
slot-busy = занято
slot-held = удержано
slot-closed = закрыто
slot-past = прошло

## The request form

request-title = Заявка на бронирование
request-organization = От организации
request-when = Когда
request-date = Дата (для серии — с какого дня)
request-start = Начало
request-end = Конец
request-zone-note = Время местное для ресурса: { $zone }.
request-repeat = Повторение
request-once = Одно занятие
request-weekly = Каждую неделю
request-days = Дни недели
request-until = Последний день серии
request-skip = Кроме дат (каникулы, праздники)
request-skip-hint = Даты через запятую; период — через тире. Например: 04.11.2026, 30.12.2026 – 08.01.2027
request-purpose = Цель (что будет на занятии)
request-headcount = Человек
request-no-names = Указывается только число участников: имена детей не нужны и не хранятся.
request-submit = Отправить заявку
request-error-date = Укажите дату
request-error-time = Укажите время в виде ЧЧ:ММ
request-error-days = Выберите хотя бы один день недели
request-error-until = Укажите последний день серии — не раньше первого
request-error-no-lessons = В эти даты нет ни одного занятия по выбранным дням
request-error-skip = Не удалось прочитать дату «{ $value }»; пишите ДД.ММ.ГГГГ
request-refused-rule = Заявку не пропускает правило ресурса «{ $rule }».
rule-explain-access = Ресурс не открыт для вашей организации.
rule-explain-approval = Этот ресурс бронируется только с согласия владельца.
rule-explain-duration = Недопустимая длительность занятия.
rule-explain-min-duration = Занятие короче, чем допускает ресурс.
rule-explain-max-duration = Занятие длиннее, чем допускает ресурс.
rule-explain-capacity = Участников больше, чем вмещает ресурс.
rule-explain-bookable-hours = Время выходит за часы работы ресурса.
rule-explain-blackout = На эти даты ресурс закрыт.
rule-explain-min-notice = Слишком поздно: заявку нужно подать заранее.
rule-explain-max-advance = Бронирование на эти даты ещё не открыто.
rule-explain-series-overlap = Занятия серии накладываются друг на друга.
rule-explain-agreement = Заявка выходит за условия договора.
rule-explain-quota = Часы по договору уже исчерпаны.

## Conflicts with booked time

conflicts-title = Время уже занято
conflicts-explain = { $count ->
    [1] Одно занятие приходится на уже забронированное время.
   *[other] Занятий, которые приходятся на уже забронированное время: { $count }.
} Заявка не отправлена.
conflicts-more = и ещё { $count }
conflicts-skip-explain = Можно отправить заявку без этих дат: остальные занятия уйдут владельцу ресурса.
conflicts-skip = Отправить без занятых дат
conflicts-change = Или измените время или даты в форме ниже.

## One booking

booking-heading = Заявка на бронирование
booking-title = Заявка: { $resource }
booking-made = Заявка отправлена владельцу ресурса.
booking-made-skipped = Заявка отправлена без занятых дат: { $dates }.
booking-pending-copy = Заявка принята узлом владельца ресурса, но её копия ещё не дошла до этого узла. Обновите страницу через несколько секунд.
booking-reload = Обновить
booking-to-inbox = К заявкам
booking-resource = Ресурс
booking-requester = Организация
booking-purpose = Цель
booking-headcount = Участники
booking-summary = Занятия
booking-occurrences = Занятия по датам
booking-when = Когда
booking-state = Состояние
booking-note = Комментарий
booking-actions = Действия
booking-decide = Решение по заявке
booking-comment = Комментарий для заявителя
booking-approve-all = Подтвердить все ожидающие
booking-reject-all = Отклонить все ожидающие
booking-approve = Подтвердить
booking-reject = Отклонить
booking-cancel = Отменить
booking-cancel-all-title = Отменить всю заявку
booking-cancel-all = Отменить всё
booking-cancel-comment = Причина отмены
booking-approved = Заявка подтверждена.
booking-rejected = Заявка отклонена.
booking-cancelled = Бронирование отменено.
note-time-taken = Время отдано другой заявке.
note-hold-expired = Срок удержания истёк.

## The inbox

bookings-title = Заявки на бронирование
bookings-find = Найти ресурс
bookings-incoming = Ждут вашего решения
bookings-incoming-explain = Заявки других организаций на ресурсы:
bookings-incoming-empty = Новых заявок нет.
bookings-outgoing = Заявки ваших организаций
bookings-outgoing-empty = Ваши организации пока ничего не бронировали.
bookings-dates = Даты
bookings-open = Подробнее
bookings-unknown-resource = ресурс другого узла
bookings-lessons = { $count ->
    [one] { $count } занятие
    [few] { $count } занятия
   *[many] { $count } занятий
}
