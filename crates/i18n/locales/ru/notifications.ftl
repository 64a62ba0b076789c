# What people are told, by kind of news: a subject and a message in
# plain text. Variables: $activity, $resource (titles), $counterpart (the
# other organization), $place (a waiting group's place in line), $lessons
# (the lessons' local times, one a line), $count (how many lessons).

notify-registration-confirmed-subject = Группа записана: { $activity }
notify-registration-confirmed = Группа записана на «{ $activity }» ({ $counterpart }), места за ней закреплены.
notify-registration-waitlisted-subject = Группа в листе ожидания: { $activity }
notify-registration-waitlisted = Мест на «{ $activity }» ({ $counterpart }) пока нет: группа в листе ожидания, { $place }-е место в очереди. Если места освободятся, группа будет записана, и вы получите письмо.
notify-registration-promoted-subject = Группа записана из листа ожидания: { $activity }
notify-registration-promoted = Места освободились: группа записана на «{ $activity }» ({ $counterpart }).
notify-registration-received-subject = Новая запись: { $activity }
notify-registration-received = { $counterpart } записывает группу на «{ $activity }».
notify-registration-withdrawn-subject = Группа отозвана: { $activity }
notify-registration-withdrawn = { $counterpart } отозвала группу с «{ $activity }».
notify-booking-requested-subject = Заявка на «{ $resource }» ждёт решения
notify-booking-requested = { $counterpart } просит { $resource } на { $count ->
    [one] { $count } занятие
    [few] { $count } занятия
   *[many] { $count } занятий
}:
notify-booking-approved-subject = Бронирование подтверждено: { $resource }
notify-booking-approved = { $counterpart } { $count ->
    [one] подтверждает занятие
   *[other] подтверждает занятия
} в «{ $resource }»:
notify-booking-rejected-subject = Бронирование отклонено: { $resource }
notify-booking-rejected = { $counterpart } { $count ->
    [one] отклоняет занятие
   *[other] отклоняет занятия
} в «{ $resource }»:
notify-booking-cancelled-subject = Бронирование отменено: { $resource }
notify-booking-cancelled = { $count ->
    [one] Отменено занятие
   *[other] Отменены занятия
} в «{ $resource }» ({ $counterpart }):
notify-comment = Комментарий: { $comment }
notify-open = Открыть в консоли: { $link }
notify-footer = Это письмо отправил узел edufed вашей организации. Настроить уведомления или отписаться: { $unsubscribe }
notify-test-subject = Проверка уведомлений edufed
notify-test = Это проверочное сообщение: узел edufed может отправлять уведомления по этому адресу.
notify-occurrence-cancelled-subject = { $count ->
    [one] Занятие отменено
   *[other] Занятия отменены
}: { $activity }
notify-occurrence-cancelled = { $counterpart } { $count ->
    [one] отменяет занятие
   *[other] отменяет занятия
} «{ $activity }», на которые записана ваша группа:
notify-occurrence-moved-subject = { $count ->
    [one] Занятие перенесено
   *[other] Занятия перенесены
}: { $activity }
notify-occurrence-moved = { $counterpart } { $count ->
    [one] переносит занятие
   *[other] переносит занятия
} «{ $activity }», на которые записана ваша группа. Новое время:
notify-reminder-subject = { $days ->
    [1] Завтра
    [7] Через неделю
    [one] Через { $days } день
    [few] Через { $days } дня
   *[many] Через { $days } дней
}: { $activity }
notify-reminder = Напоминаем: ваша группа записана на «{ $activity }» ({ $counterpart }).
notify-agreement-awaiting-signature-subject = Соглашение ждёт подписи: { $agreement }
notify-agreement-awaiting-signature = Соглашение «{ $agreement }» ждёт подписи вашей организации. Откройте его, проверьте текст и подпишите или отклоните с комментарием.
notify-agreement-signed-subject = Соглашение подписано всеми сторонами: { $agreement }
notify-agreement-signed = Все стороны подписали соглашение «{ $agreement }». Оно действует в сроки, указанные в тексте.
notify-agreement-declined-subject = Соглашение отклонено: { $agreement }
notify-agreement-declined = { $counterpart } отклоняет соглашение «{ $agreement }». Инициатор может исправить текст и предложить его снова.
notify-agreement-amended-subject = Изменения соглашения вступили в силу: { $agreement }
notify-agreement-amended = Все стороны подписали изменения соглашения «{ $agreement }»: действует новая редакция.
notify-agreement-terminated-subject = Соглашение расторгается: { $agreement }
notify-agreement-terminated = { $counterpart } расторгает соглашение «{ $agreement }». Последний день действия: { $until }.
notify-agreement-expiring-subject = Срок соглашения истекает { $until }: { $agreement }
notify-agreement-expiring = Соглашение «{ $agreement }» действует до { $until } — осталось { $days } { $days ->
    [one] день
    [few] дня
   *[many] дней
}. Если сотрудничество продолжится, подготовьте новое соглашение или изменения.
notify-digest-subject = Сводка edufed: { $count } { $count ->
    [one] событие
    [few] события
   *[many] событий
}
notify-digest = События за день, о которых вы просили сообщать одной сводкой:
notify-booking-hold-lapsing-subject = Предварительная бронь снимется { $until }: { $resource }
notify-booking-hold-lapsing = { $count ->
    [one] Занятие
   *[other] Занятия
} в «{ $resource }» ({ $counterpart }) { $count ->
    [one] забронировано
   *[other] забронированы
} предварительно: бронь снимется { $until }, если её не подтвердить.
