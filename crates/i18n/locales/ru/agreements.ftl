# The web console's network agreements: the list, one agreement with its
# Article 15 sections (273-FZ), signing, the draft's form and the printable
# document.

## The list

agreements-title = Сетевые договоры
agreements-new = Новый договор
agreements-sign-in = Договоры видны участникам сети: войдите по ссылке от администратора своей организации.
agreements-filters = Отбор договоров
agreements-whose = Чьи договоры
agreements-mine = Моих организаций
agreements-register = Весь реестр сети
agreements-any-state = Любое
agreements-expiring = Истекают в ближайшие 60 дней
agreements-apply = Показать
agreements-empty = Договоров с такими условиями нет.
agreements-ends = До окончания
agreements-expiring-soon = Истекает в ближайшие 60 дней
agreements-kept-elsewhere = хранится на узле другой стороны
agreements-more = Следующие договоры

agreement-days-left = { $count ->
    [one] остался { $count } день
    [few] осталось { $count } дня
   *[many] осталось { $count } дней
}
agreement-last-day = последний день
agreement-notice-days = { $count ->
    [one] { $count } день
    [few] { $count } дня
   *[many] { $count } дней
}

## One agreement

agreement-back = К списку договоров
agreement-untitled = Договор без названия
agreement-title = Договор
agreement-number = Номер
agreement-dated = от { $date }
agreement-kind = Вид
agreement-state = Состояние
agreement-initiator = Инициатор
agreement-term = Срок действия
agreement-zone = Часовой пояс
agreement-kept-elsewhere = Договор хранится на узле организации-инициатора; подписи и отказы передаются туда, изменения и расторжение оформляются там.
agreement-awaiting = Ждём подписи
agreement-actions = Ваши действия
agreement-for-party = За организацию
agreement-sign-explain = Подпись ставится ключом узла на эту редакцию; её хеш:
agreement-sign = Подписать
agreement-decline = Отклонить
agreement-decline-comment = Причина отказа (увидят все стороны)
agreement-edit = Изменить черновик
agreement-propose = Направить на подписание
agreement-amend = Предложить изменения
agreement-terminate = Расторгнуть договор
agreement-terminate-from = С какого дня договор не действует
agreement-terminate-hint = Пусто — с ближайшего дня, который позволяет срок уведомления.
agreement-terminate-grounds = Основание
agreement-terminate-button = Расторгнуть
agreement-shown-version = Редакция { $version }: { $status }.
agreement-print = Версия для печати
agreement-done-drafted = Черновик сохранён.
agreement-done-proposed = Договор направлен сторонам на подписание.
agreement-done-signed = Договор подписан.
agreement-done-declined = Договор отклонён; инициатор увидит ваш комментарий.
agreement-done-terminated = Договор расторгается.
agreement-done-amended = Изменения направлены сторонам на подписание.
agreement-no-version = Такой редакции нет: { $version }.
agreement-may-not-draft = Составлять договоры могут администраторы и координаторы организаций.

## Versions and history

agreement-versions = Редакции
agreement-version = Редакция
agreement-version-status = Статус редакции
agreement-proposed-at = Направлена на подписание
agreement-hash = Хеш
agreement-hash-full = Хеш содержания (SHA-256)
agreement-signatures = Подписи
agreement-signed-of = { $signed } из { $parties }
agreement-version-in-force = действующая редакция
agreement-version-ended = последняя действовавшая редакция
agreement-version-amendment = изменения к действующей редакции, ждут подписей
agreement-version-awaiting = на подписании, в силу не вступила
agreement-version-declined = отклонена стороной
agreement-version-replaced = прежняя редакция
agreement-version-draft = черновик, не подписан
agreement-version-not-in-force = не действует
agreement-history = История
agreement-when = Когда
agreement-event = Что произошло
agreement-by-node = узел (по сроку)
agreement-action-drafted = Составлен черновик
agreement-action-updated = Черновик изменён
agreement-action-proposed = Направлен на подписание
agreement-action-signed = Подписан стороной
agreement-action-declined = Отклонён стороной
agreement-action-in-force = Подписан всеми сторонами
agreement-action-amendment-proposed = Предложены изменения
agreement-action-termination-notice = Уведомление о расторжении
agreement-action-terminated = Расторгнут
agreement-action-activated = Вступил в силу
agreement-action-expired = Срок действия истёк

## The document: parties and the sections of Article 15 of 273-FZ

agreement-parties = Стороны договора
agreement-party = Сторона
agreement-organization = Организация
agreement-role = Роль
agreement-signatory = Подписант
agreement-signature = Подпись
agreement-acts-on = действует на основании
agreement-signature-verified = подпись проверена
agreement-signature-unverified = подпись не прошла проверку
agreement-signature-awaited = ждём подписи
agreement-not-signed = не подписано
agreement-signing-node = узел
agreement-declined-by = Отклонено:
agreement-section-1 = 1. Образовательная программа, реализуемая в сетевой форме
agreement-section-2 = 2. Статус обучающихся и правила приёма
agreement-section-3 = 3. Условия и порядок реализации программы
agreement-section-4 = 4. Документы, выдаваемые по завершении обучения
agreement-section-5 = 5. Срок действия, порядок изменения и прекращения договора
agreement-programme = Программа
agreement-programme-kind = Вид программы
agreement-programme-level = Уровень образования
agreement-programme-focus = Направленность
agreement-parts = Части программы в сетевой форме
agreement-no-parts = Части программы не указаны.
agreement-part-kind = Вид части
agreement-part-name = Часть программы
agreement-hours = Часов
agreement-grades = Классы
agreement-students-status = Статус обучающихся
agreement-students-admission = Правила приёма
agreement-students-planned = Планируемая численность обучающихся
agreement-duties = Распределение обязанностей между сторонами
agreement-duty = Обязанности
agreement-resources = Ресурсы сторон и их объём
agreement-resource = Ресурс
agreement-period = Период
agreement-document = Документ
agreement-issuer = Кто выдаёт
agreement-amendment = Порядок изменения
agreement-termination = Порядок прекращения
agreement-notice = Срок уведомления о досрочном расторжении
agreement-more = Дополнительные сведения
agreement-planned-teachers = Планируемое число педагогов
agreement-planned-students = Планируемое число обучающихся
agreement-notes = Примечания
agreement-not-stated = не указано
agreement-not-provided = не предусмотрено

## The printable document

agreement-print-toolbar = Печать договора
agreement-print-back = К договору
agreement-print-button = Печать
agreement-signature-blocks = Подписи сторон
agreement-signed-electronically = Подписано электронно
agreement-seal = М. П.
agreement-footer = Договор

## The draft's form

agreement-new-title = Новый договор
agreement-edit-title = Черновик договора
agreement-amend-title = Изменения к договору
agreement-form-back = Назад
agreement-form-explain = Заполните, что уже известно: черновик можно дополнить позже. Для сетевой формы перед подписанием нужны все пять разделов статьи 15 Федерального закона № 273-ФЗ.
agreement-form-or-json = Или загрузите файл JSON.
agreement-form-main = Договор и стороны
agreement-form-dated = Дата договора
agreement-form-valid-from = Действует с
agreement-form-valid-to = Действует по
agreement-form-party = Сторона
agreement-form-party-heading = Стороны
agreement-form-signatory-name = ФИО подписанта
agreement-form-signatory-position = Должность подписанта
agreement-form-signatory-basis = Действует на основании
agreement-form-part = Часть
agreement-form-part-heading = Части программы
agreement-form-grade-min = Класс с
agreement-form-grade-max = Класс по
agreement-form-duty = Обязанность
agreement-form-duty-heading = Обязанности сторон
agreement-form-pledge = Ресурс
agreement-form-pledge-heading = Ресурсы сторон
agreement-form-document = Документ
agreement-form-document-heading = Документы
agreement-form-notice-days = Дней уведомления о расторжении
agreement-form-amending-party = От имени стороны
agreement-form-more-rows = Нужно больше строк? Сохраните черновик: в форме появится ещё одна пустая строка.
agreement-form-save = Сохранить черновик
agreement-form-save-propose = Сохранить и направить на подписание
agreement-form-amend = Направить изменения на подписание
agreement-json-heading = Черновик из файла JSON
agreement-json-explain = Тот же JSON, что читает «edufed agreement draft --file»: содержание договора (AgreementContent), имена полей как в описании API, значения перечислений по именам.
agreement-json-file = Файл JSON
agreement-json-text = Содержание договора в JSON
agreement-json-draft = Создать черновик
agreement-json-unreadable = Это не содержание договора в JSON: { $error }
