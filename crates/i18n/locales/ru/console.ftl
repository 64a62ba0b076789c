# The web console's own words: its frame, signing in, the account, the
# calendar and an activity.

## Refusals: the lead of one no template translates

error-invalid-argument = Неверное значение
error-not-found = Не найдено
error-already-exists = Уже существует
error-failed-precondition = Нельзя сейчас
error-permission-denied = Нет прав
error-unauthenticated = Нужно войти
error-unavailable = Узел сейчас недоступен
error-internal = Внутренняя ошибка узла

## The web console: frame and navigation

nav-skip = Перейти к содержанию
nav-label = Разделы
nav-calendar = Календарь
nav-resources = Ресурсы
nav-agreements = Договоры
nav-mentoring = Наставничество
nav-reports = Отчёты
nav-node = Узел
nav-sign-out = Выйти
nav-sign-in = Войти
page-broken = Страница не построилась; подробности в журнале узла.
notice-session-lost = Сеанс закончился.
refused-heading = Запрос отклонён
refused-cross-site = Форма отправлена не с этой страницы или устарела. Ничего не изменено; откройте страницу заново и повторите.
refused-too-large = Форма слишком велика. Ничего не изменено.
refused-bad-form = Форма заполнена неверно. Ничего не изменено.
failure-heading = Не получилось
problem-back = Вернуться к календарю

## Signing in

sign-in-title = Вход в edufed
sign-in-explain = Эта ссылка одноразовая: нажмите кнопку, чтобы войти в этом браузере.
sign-in-button = Войти
signed-out-title = Нужно войти
signed-out-explain = Войдите через поставщика входа вашего региона или по одноразовой ссылке от администратора своей организации.
signed-out-calendar = Открыть календарь сети
sign-in-no-issuers = На этом узле вход — только по одноразовой ссылке: попросите её у администратора своей организации.
sign-in-or-link = Или откройте одноразовую ссылку для входа, которую прислал администратор вашей организации.
sign-in-provider-said = Поставщик входа не впустил:
sign-in-denied = Вход отменён на стороне поставщика входа.
sign-in-again = Войти снова
sign-in-through = Войти через { $issuer }
invitation-title = Приглашение в edufed
invitation-explain = Администратор вашей организации пригласил вас в edufed. Войдите той учётной записью, которой будете входить и дальше: она будет связана с вами. Приглашение срабатывает один раз.
unbound-title = Учётная запись не связана
unbound-whom = Обратитесь к администратору своей организации в edufed (обычно это заместитель директора или ответственный за сетевое взаимодействие). Он может:
unbound-email = добавить вас участником с тем адресом электронной почты, который подтверждён у поставщика входа, — тогда вход свяжется сам;
unbound-invitation = или прислать приглашение: вход по нему свяжет с вами любую учётную запись.
unbound-nothing-else = Пока учётная запись не связана, в edufed ничего не открыто.
signed-out-here-title = Вы вышли из edufed
signed-out-here-explain = Сеанс в этом браузере завершён.
signed-out-issuer-explain = Вы всё ещё вошли в { $issuer }: другие сайты, использующие этот вход, откроются без пароля.
signed-out-issuer = Выйти также из { $issuer }

## Account

account-title = Мой профиль
account-roles = Роли
account-no-roles = Вы пока не состоите ни в одной организации этого узла.
account-organization = Организация
account-role = Роль
account-sessions = Сеансы
account-no-identities = Вы входите по одноразовым ссылкам: ни одна учётная запись поставщика входа с вами не связана.
account-sessions-explain = Где вы вошли в edufed. Завершите сеанс, которым больше не пользуетесь.
account-browser = Браузер
account-origin = Как вошли
account-started = Начат
account-last-seen = Последнее действие
account-state = Состояние
account-actions = Действия
account-this-session = этот сеанс
account-end-session = Завершить
session-active = Активен
session-expired = Истёк

## Calendar

calendar-title = Календарь сети
calendar-filters = Фильтры календаря
calendar-search = Поиск
calendar-grade = Класс
calendar-any = Любой
calendar-direction = Направление
calendar-kind = Вид
calendar-publisher = Организатор
calendar-subject = Предмет
calendar-free = Есть свободные места
calendar-apply = Показать
calendar-previous = Предыдущий период
calendar-next = Следующий период
calendar-today = Сегодня
calendar-views = Вид календаря
calendar-month = Месяц
calendar-week = Неделя
calendar-list = Список
calendar-empty = В этот период ничего не найдено.
calendar-all-day = весь день
calendar-no-seats = мест нет
calendar-more = { $count ->
    [one] ещё { $count } мероприятие
    [few] ещё { $count } мероприятия
   *[many] ещё { $count } мероприятий
}
calendar-cancelled = отменено
calendar-zone-note = Время — местное время мероприятия; ваш пояс:
calendar-subscribe = Подписка на календарь
calendar-subscribe-explain = Добавьте эту ссылку в календарь на телефоне или компьютере: мероприятия с этими фильтрами появятся там и будут обновляться.
calendar-subscription-url = Ссылка для подписки
calendar-subscribe-open = Открыть в приложении календаря

## Activity

activity-back = К календарю
activity-cancelled = Мероприятие отменено.
activity-kind = Вид
activity-publisher = Организатор
activity-direction = Направление
activity-grades = Классы
activity-format = Формат
activity-place = Место
activity-subjects = Предметы
activity-capacity = Мест на занятие
activity-capacity-unlimited = без ограничения
activity-coordinator = Координатор
activity-zone = Часовой пояс
activity-seen-by = Кто видит
activity-teachers-group = педагоги
activity-group = Кто идёт
activity-group-students = Группа учеников
activity-group-teachers = Группа педагогов (без классов)
activity-mentoring-pair = Наставническая пара этой встречи →
activity-mentoring-programme = Программа наставничества →
activity-status = Статус
activity-occurrences = Даты
activity-waitlisted = Групп в листе ожидания
activity-when = Когда
activity-seats = Свободно
activity-registrations = Заявки групп
activity-no-registrations = Заявок пока нет.
activity-organization = Организация
activity-headcount = Человек
activity-teacher = Ответственный педагог
activity-teacher-contact = Контакт педагога (почта или телефон)
activity-state = Состояние
activity-whole-series = Весь цикл
activity-new-headcount = Новое число участников
activity-change-headcount = Изменить
activity-withdraw = Отозвать
activity-register = Записать группу
activity-which = На какое занятие
activity-grade-from = с
activity-grade-to = по
activity-no-names = Записывается группа: класс и число участников. Имена детей не нужны и не хранятся.
activity-register-button = Записать
registered-confirmed = Заявка подтверждена: места за группой.
registered-waitlisted = Мест не хватило: группа в листе ожидания, место { $place }. Как только места освободятся, заявка подтвердится сама.
registration-waitlisted-place = В листе ожидания, место { $place }

## Publishing and results

publish-title = Опубликовать мероприятие
publish-publisher = Организатор
publish-what = Что
publish-name = Название
publish-description = Описание
publish-subjects = Предметы (через запятую)
publish-for-whom = Для кого
publish-where = Где
publish-place-value = Адрес, помещение или ссылка
publish-capacity = Мест на занятие (0 — без ограничения)
publish-visibility = Кто видит
publish-when = Когда
publish-date = Дата (первого занятия)
publish-start = Начало
publish-end = Окончание
publish-repeat = Повторять по дням недели
publish-days = Дни недели
publish-until = До (последний день)
publish-skip = Пропустить даты (по одной в строке; диапазон — через тире: 28.12.2027 – 08.01.2028)
publish-draft = Сохранить как черновик
publish-button = Опубликовать
publish-zone = Время — местное время организатора.
publish-date-invalid = Укажите дату
publish-time-invalid = Укажите время в виде ЧЧ:ММ
publish-days-required = Отметьте хотя бы один день недели
publish-until-required = Укажите последний день
publish-until-before = Последний день раньше первого
publish-skip-invalid = Даты пишутся как 04.11.2027 или 2027-11-04; диапазон — через тире
results-title = Итоги
results-record = Внести итоги
results-attended = Пришли
results-participants = Участвовали
results-prize-winners = Призёры
results-winners = Победители
results-save = Сохранить
results-recorded = Итоги сохранены.
results-summary = пришли { $attended }, участвовали { $participants }, призёров { $prize }, победителей { $winners }
results-summary-attendance = пришли { $attended }
notifications-title = Уведомления
notifications-explain = О чём и как edufed сообщает вам по электронной почте: сразу, одной сводкой в день или никогда. Каждое письмо приходит только тем, кого оно касается по роли в организации.
notifications-kind = Событие
notifications-save = Сохранить
notifications-saved = Настройки уведомлений сохранены.
account-notifications = Настроить уведомления
unsubscribe-title = Отписка от уведомлений
unsubscribe-explain = Нажмите кнопку, чтобы больше не получать такие письма. Остальные уведомления останутся как были.
unsubscribe-button = Отписаться
unsubscribe-done = Уведомления «{ $kind }» больше не будут приходить.
unsubscribe-settings = Настроить остальные уведомления
notifications-address = Письма приходят на { $email }. Ежедневная сводка — в 7:00 по времени вашей организации.
notifications-no-email = У вас не указан адрес электронной почты, поэтому письма не приходят. Попросите администратора организации добавить его.
notifications-none = Ваши роли не предполагают уведомлений.

## Mentoring

mentoring-title = Наставничество
mentoring-explain = Программы наставничества ваших организаций и партнёров: кто кого наставляет, контрольные точки и итоги. Реестр пар закрыт: его видят координатор программы, администраторы и координаторы участвующих организаций.
mentoring-empty = Ваши организации пока не участвуют ни в одной программе наставничества.
mentoring-programme = Программа
mentoring-owner = Организация
mentoring-partners = Партнёры
mentoring-partners-hint = Удерживайте Ctrl (⌘ на Mac), чтобы выбрать несколько.
mentoring-term-column = Срок
mentoring-term = с { $from } по { $to }
mentoring-since = с { $from }
mentoring-elsewhere = ведётся на другом узле
mentoring-kept-on = Ведётся на узле
mentoring-new = Новая программа
mentoring-programme-title = Название программы
mentoring-form = Форма наставничества
mentoring-choose-form = Выберите форму
mentoring-form-label = Название другой формы
mentoring-form-label-hint = Только если форма — «Другая форма».
mentoring-starts = Начало
mentoring-ends = Окончание
mentoring-coordinator = Координатор программы
mentoring-goals = Цели
mentoring-card = Карта мониторинга
mentoring-card-hint = Критерии, по которым координатор оценивает пары в контрольных точках; пустые строки не сохраняются.
mentoring-criterion = Критерий
mentoring-scale = шкала до
mentoring-criterion-scale = { $title } (шкала 1–{ $scale })
mentoring-create = Создать программу
mentoring-back = ← Все программы
mentoring-register = Реестр наставнических пар
mentoring-register-closed = Реестр закрыт: его видят координатор программы, администраторы и координаторы участвующих организаций.
mentoring-no-pairs = Пар пока нет.
mentoring-mentor = Наставник
mentoring-mentees = Наставляемые
mentoring-mentee = Наставляемый
mentoring-state = Состояние
mentoring-outcome = Итог
mentoring-checkpoints = Контрольные точки
mentoring-pupil-code = ученик { $code }, { $org }
mentoring-shared-mentees = { $count } { $count ->
    [one] наставляемый
    [few] наставляемых
   *[other] наставляемых
}: { $orgs }
mentoring-new-pair = Новая пара или группа
mentoring-organization = Организация
mentoring-name = ФИО
mentoring-position = Должность
mentoring-mentee-kind = Кто наставляемый
mentoring-mentee-colleague = Коллега (педагог, студент)
mentoring-mentee-cohort = Группа учеников
mentoring-mentee-pupil = Ученик по коду школы
mentoring-mentee-hint = Для коллеги укажите ФИО и должность; для группы — классы и число учеников; для ученика — только код, который ведёт его школа. Имена детей не вносятся.
mentoring-colleague-name = ФИО коллеги
mentoring-grades = Классы
mentoring-from = с
mentoring-to = по
mentoring-headcount = Учеников
mentoring-code = Код ученика
mentoring-code-hint = Например, P-0042: латинские буквы и цифры, не имя и не контакт.
mentoring-pair-starts = Начало работы пары
mentoring-add-pair = Добавить пару
mentoring-pair-title = Наставническая пара
mentoring-no-checkpoints = Оценок пока нет.
mentoring-checkpoint = Контрольная точка
mentoring-checkpoint-hint = Например, «I полугодие 2025/26».
mentoring-comment = Комментарий
mentoring-start = Начать работу пары
mentoring-first-meeting = Дата первой встречи
mentoring-start-button = Начать
mentoring-assess = Оценить пару
mentoring-on = Дата
mentoring-assess-button = Сохранить оценку
mentoring-complete = Завершить с итогом
mentoring-choose-result = Выберите итог
mentoring-outcome-comment = Комментарий к итогу
mentoring-profile = Выбранный профиль (для профориентации)
mentoring-complete-button = Завершить
mentoring-end = Завершить досрочно
mentoring-reason = Причина
mentoring-end-button = Завершить досрочно
mentoring-pair-started = Пара начала работу.
mentoring-pair-assessed = Оценка сохранена.
mentoring-pair-completed = Пара завершена, итог записан.
mentoring-meetings = Встречи
mentoring-no-meetings = Встреч пока не назначено.
mentoring-meetings-seen-by = Встречи пары видят только участники её организаций; они есть в их календаре и в их личной ленте iCalendar.
mentoring-schedule = Назначить встречу
mentoring-meeting-publisher = От организации
mentoring-meeting-title = Тема встречи
mentoring-meeting-default-title = Встреча наставника
mentoring-meeting-date = Дата
mentoring-meeting-start = Начало
mentoring-meeting-end = Окончание
mentoring-meeting-weeks = Сколько встреч
mentoring-meeting-weeks-hint = Больше одной — каждую неделю в тот же день и час, до 52.
mentoring-meeting-weeks-invalid = Укажите число встреч от 1 до 52.
mentoring-meeting-place = Где
mentoring-meeting-place-hint = Адрес или кабинет; ссылка https:// — для встречи онлайн. Пусто — в организации.
mentoring-schedule-button = Назначить
mentoring-meetings-scheduled = Встречи назначены и появились в календаре.
mentoring-pair-ended = Пара завершена досрочно.
mentoring-teachers-link = Педагоги и их профессиональный рост
mentoring-report-link = Отчёт по наставничеству
mentoring-teachers-title = Педагоги и их профессиональный рост
mentoring-teachers-explain = Сколько в организации педагогов и молодых специалистов, сколько прошли КПК и стажировки, посетили сетевые семинары, состоят в ассоциации наставников и в национальной системе профессионального роста — за учебный год. Это знаменатели долей в отчёте по наставничеству; только числа, без имён.
mentoring-teachers-empty = Ваши организации ещё не указали своих педагогов.
mentoring-teachers-year = Учебный год
mentoring-teachers-teachers = Педагогов
mentoring-teachers-young = Молодых специалистов
mentoring-teachers-courses = Прошли КПК
mentoring-teachers-course-hours = Часов КПК
mentoring-teachers-internships = Прошли стажировку
mentoring-teachers-seminars = Посетили сетевые семинары
mentoring-teachers-association = В ассоциации наставников
mentoring-teachers-growth-system = В национальной системе роста
mentoring-teachers-state = Указать за учебный год
mentoring-teachers-save = Сохранить
mentoring-teachers-stated = Данные о педагогах сохранены.
