# The API's refusals in Russian: one message per template of
# locales/en/refusals.ftl, by the same id, with the same variables. A
# message starts in lower case: the console capitalizes it where it stands
# alone, and a refusal quoted inside another reads on.

## Any input field

refusal-required = обязательное поле
refusal-at-most = не больше { $max }
refusal-must-be-at-most = не больше { $max }
refusal-at-most-entries = не больше { $max } { $max ->
    [one] записи
   *[other] записей
}
refusal-at-most-parties = не больше { $max } { $max ->
    [one] стороны
   *[other] сторон
}
refusal-at-most-kinds = не больше { $max } { $max ->
    [one] вида
   *[other] видов
}
refusal-too-many-values = слишком много значений
refusal-longer-than = длиннее { $max } { $max ->
    [one] символа
   *[other] символов
}
refusal-control-characters = не должно содержать управляющих символов
refusal-control-characters-in-text = не должно содержать управляющих символов, кроме переводов строки
refusal-page-token = это не продолжение этого списка; запросите список заново
refusal-not-an-id = { $value } — неверный идентификатор
refusal-unknown-value = неизвестное значение { $value }
refusal-unknown-value-of = неизвестное значение { $value }; допустимы: { $values }
refusal-unknown-zone = неизвестный часовой пояс { $value }
refusal-not-a-date = { $value } — не дата (ГГГГ-ММ-ДД)
refusal-not-a-local-time = { $value } — не дата и время вида 2024-09-03T14:00
refusal-not-a-time = { $value } — не время вида 09:00
refusal-not-a-timestamp = неверная отметка времени
refusal-years = должно быть между 1970 и 2200 годом
refusal-positive-duration = должно быть положительной длительностью
refusal-missing-or-malformed = отсутствует или записано неверно
refusal-not-text = не текст
refusal-not-hex = не шестнадцатеричное число
refusal-malformed = записано неверно
refusal-invalid-field = неверное поле { $field }: { $reason }

## Organizations, people, tokens

refusal-slug-length = { $value }: короткое имя должно быть от 3 до 63 символов
refusal-slug-letters = { $value }: в коротком имени допустимы только строчные латинские буквы, цифры и дефисы
refusal-slug-start = { $value }: короткое имя должно начинаться с буквы
refusal-slug-hyphens = { $value }: короткое имя не может оканчиваться дефисом или содержать два дефиса подряд
refusal-inn-digits = ИНН состоит из 10 или 12 цифр
refusal-inn-check = { $value }: неверные контрольные цифры ИНН
refusal-email-length = длиннее 254 символов
refusal-not-an-email = { $value } — не адрес электронной почты
refusal-not-a-phone = { $value } — не номер телефона
refusal-not-a-website = { $value } — не адрес сайта (http или https)
refusal-token-ttl = от 1 минуты до 2 лет
refusal-org-ref-required = обязательное поле (идентификатор или короткое имя организации)
refusal-not-an-org-ref = { $value } — не идентификатор и не короткое имя организации
refusal-unknown-org-kind = неизвестный тип организации { $value }
refusal-unknown-role = неизвестная роль { $value }
refusal-person-or-new = укажите существующего человека или данные нового
refusal-organization-not-found = организация { $organization } не найдена
refusal-organization-unknown = организация { $organization } неизвестна этому узлу
refusal-organization-not-here = организация { $organization } не размещена на этом узле
refusal-no-organization-here = на этом узле нет организации { $organization }
refusal-person-not-found = человек { $person } не найден
refusal-token-not-found = токен { $token } не найден
refusal-not-a-member = { $person } не состоит в организации { $organization }
refusal-slug-taken = короткое имя { $slug } уже занято
refusal-email-taken = человека с почтой { $email } только что добавил другой запрос; повторите добавление
refusal-already-a-member = { $person } уже состоит в организации { $organization }
refusal-organization-version = организацию { $organization } уже изменили (версия { $actual }, а не { $expected }); откройте её заново
refusal-last-admin = { $person } — последний администратор организации { $organization }; сначала назначьте другого администратора
refusal-hosted-elsewhere = организация { $organization } размещена на узле { $node }; её и её участников меняют там
refusal-token-revoked-already = токен { $token } уже отозван

## Signing in: tokens, links, sessions

refusal-token-invalid = токен недействителен
refusal-token-revoked = токен отозван
refusal-token-expired = срок действия токена истёк
refusal-token-needed = нужно войти: запрос требует токена
refusal-authorization-not-text = заголовок Authorization — не текст
refusal-authorization-basic = учётные данные Basic должны быть base64 от «имя:токен»
refusal-authorization-bearer = заголовок Authorization должен иметь вид «Bearer <токен>»
refusal-session-not-found = сеанс { $session } не найден
refusal-session-ended-already = сеанс { $session } уже завершён
refusal-link-invalid = ссылка для входа недействительна
refusal-link-used = ссылка для входа уже использована; попросите новую
refusal-link-expired = срок действия ссылки для входа истёк; попросите новую
refusal-session-invalid = сеанс недействителен; войдите снова
refusal-session-ended = сеанс завершён; войдите снова
refusal-session-expired = срок сеанса истёк; войдите снова
refusal-link-ttl = от 1 минуты до 3 дней
refusal-idle-timeout = не меньше 5 минут
refusal-max-age = не больше года
refusal-idle-above-max-age = не больше наибольшей длительности сеанса

## Signing in through an identity provider

refusal-identity-unbound = учётная запись { $account } ({ $issuer }) ни с кем на этом узле не связана; попросите администратора вашей организации добавить вас с этим адресом или прислать приглашение
refusal-email-not-verified = поставщик входа не подтвердил адрес { $email }; попросите администратора вашей организации прислать приглашение
refusal-issuer-required = организация { $organization } требует, чтобы её участники входили через { $issuer }
refusal-already-bound = { $person } уже связан с другой учётной записью ({ $issuer }); сначала отвяжите её
refusal-bound-to-another = эта учётная запись ({ $issuer }) уже связана с другим человеком
refusal-identity-not-found = у { $person } нет связанной учётной записи ({ $issuer })
refusal-sign-in-unknown = этот вход начат не здесь или уже завершён; начните заново
refusal-sign-in-expired = вход начат слишком давно и больше не действует; начните заново
refusal-invitation-only = эта ссылка — приглашение: войдите по ней через поставщика входа
refusal-issuer-unknown = на этом узле нет поставщика входа { $issuer }
refusal-provider-unreachable = поставщик входа недоступен: { $cause }
refusal-provider-refused = поставщик входа отказал во входе: { $cause }
refusal-id-token-signature = подпись ID-токена не принадлежит поставщику входа
refusal-id-token-audience = ID-токен выдан другому приложению
refusal-id-token-expired = срок действия ID-токена истёк
refusal-id-token-nonce = ID-токен выдан не для этого входа (nonce не совпадает)
refusal-id-token-issuer = ID-токен выдан другим поставщиком входа
refusal-id-token-claims = ID-токен не принят: { $cause }
refusal-device-refused = вход на другом устройстве отклонён или больше не действует
refusal-provider-unsupported = поставщик входа не поддерживает { $feature }
refusal-sign-in-state = ответ поставщика входа не относится ко входу, начатому в этом браузере; начните заново
refusal-invitation-self = укажите другого человека: приглашение связывает учётную запись того, кому его отправили
refusal-sign-in-mixed-up = ответ пришёл не от того поставщика входа, с которого начат вход; начните заново

## Who may do what (the policy)

refusal-operator-only = только оператор узла может { $action }
refusal-centres-only = только оператор, администратор или координатор методического центра на этом узле может { $action } для города или всей сети
refusal-role-does-not-allow = роль «{ $role }» в организации { $organization } не позволяет { $action }
refusal-not-a-member-of = вы не состоите в организации { $organization } и не можете { $action }
refusal-may-not = вы не можете { $action }
refusal-may-not-for-person = вы не можете { $action }: это может сам человек, администратор каждой его организации или оператор узла
refusal-no-role = у вас нет роли в организации { $organization }
refusal-action-create-organizations = создавать организации
refusal-action-update-organization = изменять данные организации
refusal-action-list-members = видеть участников организации
refusal-action-add-members = добавлять участников
refusal-action-remove-members = исключать участников
refusal-action-watch-changes = следить за изменениями организации
refusal-action-manage-tokens = управлять токенами этого человека
refusal-action-manage-activities = управлять мероприятиями организации
refusal-action-register-cohorts = записывать группы организации
refusal-action-view-registrations = видеть заявки организации
refusal-action-manage-resources = управлять ресурсами организации
refusal-action-request-bookings = бронировать ресурсы для организации
refusal-action-view-bookings = видеть бронирования организации
refusal-action-manage-agreements = готовить договоры организации
refusal-action-sign-agreements = подписывать, отклонять и расторгать договоры от имени организации
refusal-action-view-agreements = видеть договоры организации
refusal-action-manage-peers = управлять соседними узлами
refusal-action-view-reports = смотреть отчёты узла
refusal-action-state-enrolment = указывать контингент организации
refusal-action-set-targets = задавать целевые показатели организации
refusal-action-view-all-records = видеть все записи узла

## The calendar: activities

refusal-activity-not-found = мероприятие { $activity } не найдено
refusal-activity-version = мероприятие { $activity } уже изменили (версия { $actual }, а не { $expected }); откройте его заново
refusal-activity-status = мероприятие { $activity } в статусе «{ $activity-status }»: { $why }
refusal-why-published-only = записываться можно только на опубликованные мероприятия
refusal-why-unchangeable = его больше нельзя изменить
refusal-why-draft-only = опубликовать можно только черновик
refusal-why-published-to-complete = завершить можно только опубликованное мероприятие
refusal-why-over = оно уже прошло
refusal-why-no-return-to-draft = мероприятие не возвращается в черновики
refusal-grades = классы — с 1 по 11
refusal-grades-order = { $min }–{ $max } — не диапазон: сначала младший класс
refusal-audience = укажите хотя бы одну группу участников
refusal-capacity = от 1 до { $max } { $max ->
    [one] места
   *[other] мест
}
refusal-quota = каждая квота — от 1 места до вместимости
refusal-closes-after-opens = должно быть позже начала записи
refusal-until-after-since = должно быть позже начала отбора
refusal-online-url = должно быть адресом http или https
refusal-not-an-occurrence = в расписании мероприятия нет такого занятия
refusal-agreement-not-here = договор { $agreement } не найден на этом узле
refusal-agreement-as-listed = укажите договор так, как он указан в списке
refusal-clocks-skip = { $local } не существует в поясе { $zone }: часы в это время переводят
refusal-all-day = мероприятие на весь день идёт от полуночи до полуночи: укажите даты (окончание — день после последнего)
refusal-end-after-start = должно быть позже начала
refusal-end-after-start-within = должно быть позже начала, но не дальше { $days } { $days ->
    [one] дня
   *[other] дней
}
refusal-occurrence-length = одно занятие длится не больше { $days } { $days ->
    [one] дня
   *[other] дней
}; для долгих используйте повторение
refusal-recurrence-dates = не больше { $max } исключённых и добавленных дат
refusal-start-not-in-rule = начало не попадает в правило повторения: начните в день, который правило включает
refusal-rule-required = обязательное поле для повторяющегося мероприятия
refusal-not-an-rrule = не правило повторения RFC 5545 (RRULE): { $error }
refusal-rule-too-often = повторяется чаще раза в день; в сети у мероприятия не больше одного занятия в день
refusal-rule-several-a-day = даёт несколько занятий в день; время занятия берётся из начала
refusal-rule-invalid-with-start = не подходит к этому началу: { $error }
refusal-rule-unbounded = правило слишком сложно развернуть; упростите его
refusal-rule-too-many = даёт больше { $max } { $max ->
    [one] занятия
   *[other] занятий
}; ограничьте его через COUNT или UNTIL
refusal-rule-none = не даёт ни одного занятия
refusal-window = должно быть позже начала периода, но не дальше { $days } { $days ->
    [one] дня
   *[other] дней
}
refusal-organization-or-activity = укажите организацию или мероприятие, но не то и другое
refusal-occurrence-holds-registrations = на занятие { $at } есть заявки, и оно пропало бы; отмените это занятие, а не убирайте его из расписания
refusal-capacity-below-confirmed = на занятие { $at } уже подтверждено { $taken } { $taken ->
    [one] место
    [few] места
   *[other] мест
}; отзовите заявки, прежде чем уменьшать число мест
refusal-quota-below-held = у организации { $organization } уже { $held } { $held ->
    [one] место
    [few] места
   *[other] мест
} на занятие { $at } — больше новой квоты

## The calendar: registrations

refusal-registration-not-found = заявка { $registration } не найдена
refusal-registration-closed = запись закрыта: { $why }
refusal-why-occurrence-cancelled = это занятие отменено
refusal-why-opens-at = она откроется { $at }
refusal-why-closed-at = она закрылась { $at }
refusal-why-headcounts-fixed = после закрытия записи число участников не меняется
refusal-headcount = от 1 до { $max }
refusal-attended = не больше числа записанных
refusal-participants = не больше числа присутствовавших
refusal-winners = победителей и призёров не больше, чем участников
refusal-attendance-only = для вида «{ $activity-kind }» отмечается только посещаемость; победители бывают у олимпиад, конкурсов, игр и спортивных мероприятий
refusal-activity-over = мероприятие прошло; заявки на него хранятся как записи
refusal-results-after-start = результаты вносят после начала мероприятия
refusal-not-for-students = это мероприятие не для школьников, а записывают группы школьников
refusal-not-for-teachers = это мероприятие не для педагогов; запишите группу учеников
refusal-teachers-no-grades = у группы педагогов классы не указываются
refusal-grades-outside = классы { $min }–{ $max } вне классов мероприятия ({ $from }–{ $to })
refusal-own-students = это мероприятие — только для учеников организатора
refusal-withdrawn-already = заявка { $registration } уже отозвана
refusal-withdrawn = заявка { $registration } отозвана
refusal-attended-headcount = присутствовали { $attended } { $attended ->
    [one] ученик
    [few] ученика
   *[other] учеников
}; меньше указать нельзя
refusal-others-waiting = другие группы ждут мест; эта группа не может вырасти в обход них
refusal-results-confirmed-only = заявка { $registration } в состоянии «{ $registration-state }»; результаты вносят по подтверждённым заявкам
refusal-above-capacity = { $headcount } { $headcount ->
    [one] человек
    [few] человека
   *[other] человек
} — больше, чем мест ({ $capacity })
refusal-above-quota = { $headcount } { $headcount ->
    [one] человек
    [few] человека
   *[other] человек
} — больше квоты организации ({ $quota } { $quota ->
    [one] место
    [few] места
   *[other] мест
})
refusal-seats-taken = { $headcount } { $headcount ->
    [one] место не помещается
    [few] места не помещаются
   *[other] мест не помещаются
}: занято { $taken } из { $capacity }
refusal-quota-taken = { $headcount } { $headcount ->
    [one] место
    [few] места
   *[other] мест
} — больше квоты организации: занято { $taken } из { $quota }
refusal-occurrence-gone = занятие прошло или отменено

## Resources and bookings

refusal-resource-not-found = ресурс { $resource } не найден
refusal-booking-not-found = бронирование { $booking } не найдено
refusal-resource-version = ресурс { $resource } уже изменили (версия { $actual }, а не { $expected }); откройте его заново
refusal-booking-rule = отказ по правилу «{ $booking-rule }»: { $detail }
refusal-detail-notice = бронировать нужно не позже чем за { $minutes } { $minutes ->
    [one] минуту
    [few] минуты
   *[other] минут
}
refusal-detail-advance = бронировать можно не дальше чем на { $days } { $days ->
    [one] день
    [few] дня
   *[other] дней
} вперёд
refusal-detail-end-after-start = окончание должно быть позже начала
refusal-detail-shorter = { $minutes } мин — короче наименьшей длительности ({ $min } мин)
refusal-detail-longer = { $minutes } мин — дольше наибольшей длительности ({ $max } мин)
refusal-detail-capacity = { $headcount } { $headcount ->
    [one] человек
    [few] человека
   *[other] человек
} — больше вместимости ({ $capacity })
refusal-detail-hours = { $start } – { $end } — вне часов бронирования ресурса «{ $resource }»
refusal-detail-closed = ресурс закрыт: { $note }
refusal-detail-series-overlap = занятия { $first } и { $second } пересекаются (с учётом перерыва)
refusal-detail-open-to = ресурс «{ $resource }» доступен только { $audience }
refusal-audience-own = своей организации
refusal-audience-partners = партнёрам владельца по договорам
refusal-audience-network = сети
refusal-detail-approval = этот ресурс бронируют с согласия владельца; отправьте заявку на бронирование вместо удержания
refusal-detail-agreement-state = договор { $agreement } в состоянии «{ $agreement-state }»; бронируют по действующему договору
refusal-detail-agreement-term = { $start } – { $end } — вне срока действия договора { $agreement } ({ $from } – { $to })
refusal-detail-requester-not-a-party = организация-заявитель { $organization } — не сторона договора { $agreement }
refusal-detail-owner-not-a-party = владелец ресурса { $organization } — не сторона договора { $agreement }
refusal-detail-no-pledge = договор { $agreement } не предусматривает часов этого ресурса
refusal-pledge-used-term = договор { $agreement } предусматривает { $pledged } на «{ $description }» на весь срок; забронировано { $booked }, а запросу нужно ещё { $needed }
refusal-pledge-used-school-year = договор { $agreement } предусматривает { $pledged } на «{ $description }» на учебный год { $year }/{ $next }; забронировано { $booked }, а запросу нужно ещё { $needed }
refusal-pledge-used-first-half = договор { $agreement } предусматривает { $pledged } на «{ $description }» на первое полугодие { $year }/{ $next }; забронировано { $booked }, а запросу нужно ещё { $needed }
refusal-pledge-used-second-half = договор { $agreement } предусматривает { $pledged } на «{ $description }» на второе полугодие { $year }/{ $next }; забронировано { $booked }, а запросу нужно ещё { $needed }
refusal-pledge-used-month = договор { $agreement } предусматривает { $pledged } на «{ $description }» в месяц ({ $month }.{ $year }); забронировано { $booked }, а запросу нужно ещё { $needed }
refusal-conflict-all = каждое запрошенное занятие пересекается с другим бронированием
refusal-conflict-just-booked = это время только что забронировал другой запрос
refusal-conflict = { $start } – { $end } пересекается с бронированием { $booking }
refusal-conflict-in-series = { $start } – { $end } пересекается с бронированием { $booking } (отклонён весь запрос; чтобы забронировать остальное, пропустите пересечения)
refusal-buffer-overlap-named = с новым перерывом бронирования { $first } и { $second } пересекутся; сначала разведите их
refusal-buffer-overlap = с новым перерывом бронирования пересекутся
refusal-nothing-to-approve = нечего согласовывать: нет ожидающих или удержанных занятий
refusal-no-occurrence-can-become = ни одно занятие бронирования { $booking } не может перейти в состояние «{ $occurrence-state }»
refusal-resource-capacity = если указана, то не меньше 1
refusal-hours-order = { $weekday ->
    [Mon] пн
    [Tue] вт
    [Wed] ср
    [Thu] чт
    [Fri] пт
    [Sat] сб
    [Sun] вс
   *[other] { $weekday }
}: время закрытия должно быть позже открытия
refusal-durations = длительность — от 1 минуты до года, наименьшая не больше наибольшей
refusal-advance-buffer = горизонт — от 1 дня до 3 лет; перерыв — не больше суток
refusal-weekday = от 1 (понедельник) до 7 (воскресенье)
refusal-scope-needs-start = обязательное поле для такой отмены
refusal-booking-window = должно быть позже начала периода, но не дальше 400 дней
refusal-resource-or-requester = укажите ресурс или заявителя
refusal-slot-window = поиск свободного времени охватывает не больше 62 дней
refusal-slot-duration = от 1 минуты до суток

## Agreements

refusal-agreement-not-found = договор { $agreement } не найден
refusal-agreement-revision = договор { $agreement } уже изменили (редакция { $actual }, а не { $expected }); откройте его заново
refusal-agreement-state = договор в состоянии «{ $agreement-state }»: { $what }
refusal-what-edit-or-amend = изменять можно только черновик или отклонённый проект; предложите изменения к договору
refusal-what-edit = изменять можно только черновик или отклонённый проект
refusal-what-propose = на подписание направляют только черновик
refusal-what-awaiting = редакция { $version } уже ждёт подписей
refusal-what-notice-given = сторона уже уведомила о расторжении
refusal-what-amend = изменения вносят только в действующий договор
refusal-what-no-ballot = ни одна редакция не ждёт подписей
refusal-what-terminating = договор уже расторгается с { $at }
refusal-what-terminate = расторгнуть можно только договор, подписанный всеми сторонами
refusal-what-not-proposed = редакция { $version } не направлялась на подписание
refusal-not-a-draft = договор — не черновик
refusal-no-version = у договора нет ни одной редакции
refusal-version-missing = редакция { $version } не найдена
refusal-there-is-no-version = редакции { $version } нет
refusal-version-required = обязательное поле: редакция, которую вы читали
refusal-not-a-party-to-version = организация { $organization } — не сторона редакции { $version }
refusal-signed-already = организация { $organization } уже подписала редакцию { $version } (договор в состоянии «{ $agreement-state }»)
refusal-not-a-party-in-force = организация { $organization } — не сторона действующей редакции
refusal-content-changed = содержание редакции { $version } изменилось (хеш { $hash }, а вы читали { $read }); откройте договор заново
refusal-other-version-awaits = подписей ждёт редакция { $awaiting }, а не { $version }
refusal-ends-before-notice = договор заканчивается { $last }, раньше, чем истечёт срок уведомления ({ $days } { $days ->
    [one] день
    [few] дня
   *[other] дней
}); он прекратится сам
refusal-after-last-day = { $day } — позже последнего дня договора ({ $last })
refusal-notice-days = договор требует уведомления за { $days } { $days ->
    [one] день
    [few] дня
   *[other] дней
}; самая ранняя дата — { $earliest }
refusal-nothing-due = ничего не назначено
refusal-initiator-party = инициатор { $organization } должен быть стороной договора
refusal-initiator-remains = инициатор { $organization } должен остаться стороной договора
refusal-resource-not-here = ресурс { $resource } не размещён на этом узле
refusal-resource-not-of = ресурс { $resource } не принадлежит организации { $organization }
refusal-agreement-grades = классы — с 1 по 11
refusal-grade-order = младший класс ({ $min }) выше старшего ({ $max })
refusal-outside-years = { $day } — вне { $from }–{ $to } годов
refusal-before-valid-from = { $to } — раньше начала срока действия ({ $from })
refusal-term-years = срок действия — не больше { $years } { $years ->
    [one] года
   *[other] лет
}
refusal-two-parties = у договора должно быть не меньше двух сторон
refusal-party-twice = организация { $organization } указана стороной дважды
refusal-one-base = базовая организация может быть только одна
refusal-named-twice = { $name } указано дважды
refusal-between-1-and-10000 = от 1 до 10000
refusal-not-a-party = организация { $organization } — не сторона договора
refusal-not-a-part = { $name } — не часть программы
refusal-pledged-twice = ресурс указан дважды; укажите его часы один раз
refusal-before-proposed = обязательное поле перед направлением на подписание
refusal-article-15 = обязательное поле договора о сетевой форме (ст. 15 273-ФЗ)
refusal-names-base = в договоре о сетевой форме указывают базовую организацию
refusal-nobody-delivers = ни одна сторона не реализует { $name }
refusal-duties-hours = по обязанностям сторон на { $name } приходится { $assigned } ч, а в программе — { $hours } ч
refusal-kinds-and-states = не больше 8 видов и 8 состояний
refusal-content-hash = хеш содержания { $actual } не совпадает с подписанным { $signed }
refusal-signing-key = отпечаток ключа { $fingerprint } не принадлежит подписавшему узлу
refusal-signature = подпись не проходит проверку: { $error }

## Reports, enrolment, targets

refusal-report-before-from = { $to } — раньше начала периода ({ $from })
refusal-report-days = отчёт охватывает не больше { $days } { $days ->
    [one] дня
   *[other] дней
}
refusal-school-year = { $value } — не учебный год вида 2025/26
refusal-school-year-order = { $value }: учебный год заканчивается в году, следующем за годом начала
refusal-not-grouped-by = этот отчёт не группируется по полю «{ $report-dimension }»; допустимы: { $report-dimensions }
refusal-target-value = должно быть числом не меньше 0
refusal-percentage = «{ $indicator }» — это доля в процентах, не больше 100
refusal-students = от 1 до { $max }
refusal-no-target = целевого значения «{ $indicator }» для { $target } на { $due } нет
refusal-required-with-to = обязательное поле, если указан конец периода
refusal-required-with-from = обязательное поле, если указано начало периода
refusal-one-scope = укажите что-то одно: организацию, город или всю сеть
refusal-dimension-required = укажите, по чему группировать
refusal-indicators-not-grouped = показатели не группируются
refusal-organization-or-city = укажите организацию или город, но не то и другое

## Feeds, the change log

refusal-no-such-feed = такой ленты нет
refusal-no-such-publisher = такого организатора нет
refusal-no-such-organization = такой организации нет
refusal-no-such-activity = такого мероприятия нет
refusal-no-such-resource = такого ресурса нет
refusal-cursor-expired = курсор { $cursor } вне хранимого журнала изменений (самая старая запись { $oldest }, последняя { $latest }); перечитайте текущее состояние и следите с последней записи
refusal-watch-streams = узел обслуживает наибольшее число потоков изменений; повторите позже
refusal-watch-streams-caller = у вас открыто { $limit } потоков изменений — больше одному клиенту нельзя; закройте один из них
refusal-heartbeat = от 1 до 300
refusal-shutting-down = узел останавливается; переподключитесь с последним курсором
refusal-deadline = запрос не уложился в { $ms } мс
refusal-internal = внутренняя ошибка узла; подробности в журнале узла

## Records kept on other nodes, and peers

refusal-not-owned = запись принадлежит узлу { $node }, а не этому; изменяйте её там
refusal-no-forwarding = запись принадлежит узлу { $node }, а этот узел не пересылает изменения
refusal-ownerless = в копии записи ({ $entity-kind } { $id }) не указан её владелец
refusal-unrelated = не найдено: { $entity-kind } { $id }
refusal-home-not-pinned = запись хранит узел { $node }, но он не связан с этим узлом, и изменение туда не отправить: { $why }
refusal-home-unreachable = узел { $node }, который хранит запись, недоступен, а принять изменение может только он: { $why }
refusal-home-refused = узел { $node }, который хранит запись, не принял удостоверение этого узла (связан ли он с этим узлом?): { $why }
refusal-not-forwardable = узел { $node } может действовать от имени своих людей только по их заявкам, бронированиям, договорам и наставническим парам (это запросы, которые узлы пересылают), а не { $path }
refusal-not-hosted-by = узел { $node } не размещает организацию { $organization } и не может действовать от её имени
refusal-idempotency-key = от 1 до { $max } видимых символов ASCII
refusal-idempotency-reused = этот ключ уже использован для другого запроса
refusal-cannot-be-sent = { $value } нельзя отправить
refusal-relay-peers-only = ретрансляция — только для связанных узлов с удостоверением узла
refusal-relay-not-followed = этот узел не следит за узлом { $node }, и ретранслировать ему нечего
refusal-relay-unpinned = узел { $node } больше не связан с этим узлом
refusal-relay-resynced = этот узел заново прочитал записи узла { $node } из снимка после того, как были сделаны ваши копии; прочитайте его снимок
refusal-node-header-not-text = заголовок узла — не текст
refusal-node-header-missing = нет заголовка { $header }
refusal-node-header-form = заголовок { $header } должен иметь вид <секунды unix>.<подпись hex>
refusal-node-clock = удостоверение узла { $node } датировано { $at }, слишком далеко от часов этого узла
refusal-node-not-pinned = узел { $node } не связан с этим узлом
refusal-pinned-key = сохранённый ключ узла недействителен
refusal-node-credential = удостоверение узла { $node } не проходит проверку его ключом
refusal-peer-not-found = узел { $node } не найден среди связанных
refusal-peer-pinned = узел { $node } уже связан
refusal-subscribed = этот узел уже следит за узлом { $node }
refusal-no-subscription = этот узел не следит за узлом { $node }
refusal-follow-directly = узел уже связан: следите за ним напрямую
refusal-fingerprint = отпечаток узла — 64 шестнадцатеричные цифры (его идентификатор)
refusal-fingerprint-own = это отпечаток самого этого узла
refusal-node-own = это сам этот узел
refusal-own-records-only = только для собственных записей этого узла
refusal-url-scheme = должно начинаться с http:// или https://
refusal-nonce = от 16 до 64 байт
refusal-key-mismatch = у узла по адресу { $url } отпечаток ключа { $actual }, а ожидался { $expected }
refusal-node-id-mismatch = узел по адресу { $url } называет себя { $node }, а это не отпечаток его ключа
refusal-public-key = открытый ключ узла недействителен: { $error }
refusal-descriptor-signature = подпись описания узла повреждена
refusal-key-not-proven = узел по адресу { $url } не доказал, что владеет ключом { $fingerprint }
refusal-malformed-descriptor = узел по адресу { $url } прислал неверное описание: { $why }
refusal-why-no-descriptor = описания нет
refusal-why-key-length = открытый ключ — не 32 байта
refusal-why-too-many-organizations = слишком много организаций
refusal-why-name-too-long = слишком длинное имя или адрес
refusal-why-organization-malformed = организация { $organization } описана неверно
refusal-cannot-reach = узел { $url } недоступен: { $error }
refusal-claims-organization = узел по адресу { $url } заявляет организацию { $organization }, которую размещает { $owner }
refusal-ambiguous = узлы { $first } и { $second } оба публикуют { $entity-kind } { $id }; ни одному из них это не доверено
refusal-not-a-url = { $url } — не адрес

## Notifications

refusal-no-notification-given-up = не указывает ни одного уведомления, доставку которого прекратили
refusal-no-mail-server = на узле не настроен почтовый сервер (smtp_host)
refusal-no-webhook = у организации нет вебхука
refusal-not-an-unsubscribe-link = ссылка для отписки недействительна
refusal-one-url = должен быть один адрес не длиннее { $max } { $max ->
    [one] символа
   *[other] символов
}
refusal-https = должен начинаться с https://
refusal-no-host = не содержит имени сервера
refusal-https-or-loopback = должен начинаться с https:// (http:// допустим только для этого компьютера)

## Mentoring

refusal-mentoring-unnamed = должно быть пустым: ребёнка не называют по имени, его только считают или обозначают кодом школы
refusal-mentoring-mentor-one = наставник — один человек: взрослый или ученик
refusal-mentoring-close-state = должно быть «завершена» или «завершена досрочно»
refusal-mentoring-end-before-start = не может быть раньше начала работы пары
refusal-mentoring-form-label = нужно назвать форму, если она другая
refusal-names-organization-twice = одна организация названа дважды
refusal-not-before-starts-on = не может быть раньше даты начала
refusal-names-criterion-twice = один критерий назван дважды
refusal-from-to = от { $min } до { $max }
refusal-criterion-key = от 1 до 32 строчных латинских букв, цифр или _
refusal-pupil-code = нужен код ученика: от 2 до 32 латинских букв, цифр, - или _, хотя бы одна цифра; не имя, не почта и не телефон
refusal-mentor-pupil = наставник-ученик бывает только в форме «ученик – ученик»
refusal-mentee-named = здесь назван ребёнок: учеников указывают группой или кодом их школы, никогда по имени
refusal-mentee-colleague = в этой форме наставничества наставляемый — коллега
refusal-within-programme-term = должно быть в пределах срока программы
refusal-no-criteria = в программе нет критериев мониторинга для оценки
refusal-misses-criterion = нет оценки по критерию { $value }
refusal-not-in-programme = организация { $organization } не участвует в программе
refusal-code-elsewhere = код ученика хранится только на узле его школы { $organization }; укажите группу учеников этой школы
refusal-programmes-elsewhere = организация { $organization } размещена на узле { $node }; её программы ведут там
refusal-programme-not-found = программа наставничества { $programme } не найдена
refusal-pair-not-found = наставническая пара { $pair } не найдена
refusal-pair-state = пара в состоянии «{ $pair-state }», поэтому не может быть { $pair-transition }
refusal-programme-version = программу { $programme } уже изменили (версия { $actual }, а не { $expected }); откройте её заново
refusal-pair-version = пару { $pair } уже изменили (версия { $actual }, а не { $expected }); откройте её заново
refusal-programme-register = только координатор программы или администратор либо координатор участвующей в ней организации может { $action }
refusal-programme-runs = только координатор программы или администратор либо координатор ведущей её организации может { $action }
refusal-pair-runs = только координатор программы, администратор или координатор организации, которая её ведёт, или одной из организаций пары может { $action }
refusal-action-run-mentoring = вести программы наставничества организации
refusal-action-read-mentoring-register = читать реестр наставничества
refusal-action-assess-mentoring = оценивать наставнические пары и записывать их итоги
refusal-programme-members = только участники организаций программы могут { $action }
refusal-action-see-mentoring-programmes = видеть программы наставничества организации
refusal-action-state-teacher-figures = указывать число педагогов организации и их профессиональный рост
refusal-programme-full = в программе наставничества не больше { $max } пар и групп
refusal-pair-over = наставническая пара { $pair } в состоянии «{ $pair-state }»: встречи ей больше не назначаются
refusal-meeting-names-pair = у встречи наставника должна быть указана пара
refusal-meeting-partners-only = встречу наставника видят только организации пары
refusal-not-pair-of-programme = это пара другой программы
refusal-not-pair-organization = не входит в организации пары
refusal-required-with-pair = обязательное поле, если указана пара
refusal-growth-consent-own = только сам человек, как участник организации { $organization }, может { $action }
refusal-growth-teacher = только сам педагог, администратор или координатор организации { $organization } может { $action }
refusal-action-consent-growth = дать согласие на учёт своего профессионального роста
refusal-action-record-growth = вносить записи о профессиональном росте педагога
refusal-growth-not-found = запись о профессиональном росте { $record } не найдена
refusal-no-consent = человек { $person } не давал согласия на персональный учёт профессионального роста в организации { $organization }
refusal-course-hours = у курса указывается число часов
refusal-hours-course-only = часы указываются только у курса или стажировки

## Professional trials

refusal-action-manage-trials = готовить профессиональные пробы организации
refusal-action-review-trials = рассматривать профессиональные пробы для банка сети
refusal-trial-not-found = профессиональная проба { $trial } не найдена
refusal-trial-state = проба в состоянии «{ $trial-state }», поэтому нельзя { $trial-step }
refusal-trial-version = профессиональная проба { $trial } в версии { $actual }, а не { $expected }, как ожидалось
refusal-trial-comment = скажите, что исправить или почему проба отклонена
refusal-not-hosted-here = не организация этого узла
refusal-session-names-trial = у занятия профессиональной пробы указывается проба из банка
refusal-trial-session-only = пробу указывает только занятие профессиональной пробы
refusal-trial-not-in-bank = профессиональной пробы { $trial } нет в банке сети: она в состоянии «{ $trial-state }»

## Designations

refusal-action-manage-designations = указывать статусы организации
refusal-action-manage-routes = составлять и назначать образовательные маршруты организации
refusal-action-view-routes = видеть образовательные маршруты организации
refusal-action-read-audit-trail = читать журнал действий с записями организации
refusal-action-erase-personal-data = удалять персональные данные этого человека
refusal-operator-not-erased = оператор узла не удаляется, пока управляет узлом; сначала назначьте оператором другого человека
refusal-designation-not-found = статус { $designation } не найден
refusal-designation-version = статус { $designation } в версии { $actual }, а не { $expected }, как ожидалось
refusal-designation-direction = укажите направление ресурсного центра
refusal-designation-olympiad = укажите олимпиаду или программу
refusal-designation-project = укажите проект площадки
refusal-designation-level = обязателен для инновационной площадки
refusal-designation-document = обязателен для инновационной площадки: приказ или договор, которым присвоен статус
refusal-designation-term = раньше начала срока
refusal-designation-count = не больше { $count }
refusal-designation-kind-needed = обязателен вместе с направлением статуса

## Learning routes

refusal-route-template-not-found = шаблон маршрута { $template } не найден
refusal-route-not-found = маршрут { $route } не найден
refusal-route-template-version = шаблон маршрута { $template } в версии { $actual }, а не { $expected }, как ожидалось
refusal-route-version = маршрут { $route } в версии { $actual }, а не { $expected }, как ожидалось
refusal-route-not-active = маршрут { $route } в состоянии «{ $route-state }», его больше не ведут
refusal-route-offering = укажите мероприятие или (в resource_id) ресурс для бронирования — что-то одно
refusal-route-window = не позже начала окна
refusal-route-year = укажите год, например 2026
refusal-route-school-year = укажите первый календарный год учебного года, например 2026 для 2026/27
refusal-route-no-items = в маршруте хотя бы один пункт
refusal-route-many-items = в маршруте не больше { $max } пунктов
refusal-route-booking-end = не позже начала
refusal-route-cohort-code = код группы — от 2 до 32 букв, цифр, «-», «_» или «.», с цифрой, например 10И-2026
refusal-route-profiles-count = { $count } { $count ->
    [one] ученик
    [few] ученика
   *[other] учеников
} — больше, чем в группе ({ $headcount })
refusal-route-above-cohort = больше, чем в группе ({ $headcount })
refusal-route-above-leavers = больше, чем выпускников
refusal-route-elective-required = пункт { $item } обязательный, а не по выбору
refusal-route-no-such-item = в шаблоне нет пункта { $item }
refusal-route-item-missing = в маршруте нет пункта { $item }
refusal-route-item-not-chosen = пункт { $item } не входит в маршрут этой группы
refusal-route-grades = для { $min }–{ $max } классов, а не для { $grade }
refusal-route-not-pupils = не для учеников
refusal-route-no-occurrence = такого занятия у мероприятия нет
refusal-person-in-text = похоже на { $what }: маршрут называет группы кодом и числом, но не детей; перепишите без имён и контактов
refusal-person-email = адрес электронной почты
refusal-person-phone = номер телефона
refusal-person-patronymic = отчество
refusal-person-initials = инициалы и фамилию
refusal-person-given-name = имя
refusal-person-full-name = имя и фамилию

## Venues

refusal-venue-required = обязательна: мероприятие проходит на нескольких площадках
refusal-venue-unknown = у мероприятия нет площадки { $venue }
refusal-venue-seats = { $headcount } { $headcount ->
    [one] место
    [few] места
   *[other] мест
} — больше, чем свободно на площадке: занято { $taken } из { $capacity }
refusal-venue-twice = площадка { $venue } указана дважды
refusal-venue-capacity = { $headcount } { $headcount ->
    [one] человек
    [few] человека
   *[other] человек
} — больше, чем мест на площадке ({ $capacity })

## Hardening

refusal-invisible-formatting = не должно содержать невидимых символов форматирования (смены направления текста, пробелов нулевой ширины)
refusal-far-occurrences = занятия доходят до { $year } года; все занятия должны быть между 1970 и 2200 годами
refusal-undecodable = запрос — не сообщение protobuf этого метода
refusal-database-unavailable = база данных узла не отвечает; повторите чуть позже
refusal-rate-limited = слишком много запросов: повторите через { $seconds } с
refusal-restore-not-empty = в базе данных уже есть данные узла: восстанавливайте в новую, пустую базу (уберите файл SQLite в сторону или создайте новую базу PostgreSQL)
refusal-restore-schema-ahead = база данных создана со схемой { $found }, новее схемы копии ({ $backup }): восстанавливайте в новую, пустую базу
refusal-restore-schema-newer = у копии схема { $backup }, новее известной этой версии edufed ({ $known }): восстановите её той версией, что её сделала, или более новой
refusal-restore-mismatch = копия не подходит к схеме: { $why }
