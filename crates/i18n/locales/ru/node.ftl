# The operator's pages in the console: the node, its peers and
# subscriptions; an organization's members, their tokens and sign-in links.

## The node

node-title = Узел
node-fingerprint = Отпечаток ключа
node-fingerprint-explain = Сообщите отпечаток операторам узлов, с которыми связываетесь: по нему они закрепляют ваш узел.
node-health = Состояние
node-health-ok = Все подписки на связи, журналы соседей получены полностью.
node-health-behind = Все подписки на связи; ещё не получено записей журнала: { $n }.
node-health-down = Нет связи с соседями: { $down } из { $total }.
node-health-alone = Подписок нет: узел видит только записи своих организаций.
node-peers = Соседние узлы
node-no-peers = Узел пока ни с кем не связан.
node-peer = Узел
node-url = Адрес
node-peer-organizations = Организации
node-added = Закреплён
node-remove-peer = Открепить
node-subscriptions = Подписки
node-subscriptions-explain = Узел следит за журналом изменений соседей и хранит копии их записей. Отставание — сколько записей журнала ещё не получено и как давно сосед был на связи.
node-no-subscriptions = Подписок нет.
node-link = Связь
node-connected = На связи
node-disconnected = Нет связи
node-last-contact = Последний контакт
node-lag-entries = Отставание, записей
node-lag = Давность связи
node-position-heading = Получено
node-position = { $cursor } из { $latest }
node-last-error = Последняя ошибка
node-no-error = нет
node-never = никогда
node-kinds-all = все записи
node-via = через
node-unsubscribe = Отписаться
node-add-peer = Закрепить узел
node-add-peer-button = Закрепить
node-subscribe = Подписаться на узел
node-subscribe-button = Подписаться
node-via-label = Получать
node-direct = напрямую
node-organizations = Организации узла
node-no-organizations = Узел пока не обслуживает ни одной организации.
node-lag-seconds = { $n } с
node-lag-minutes = { $n } мин
node-lag-hours = { $n } ч
node-lag-days = { $n } дн.
node-done-peer-added = Узел закреплён.
node-done-peer-removed = Узел откреплён.
node-done-subscribed = Подписка оформлена.
node-done-unsubscribed = Подписка отменена.

## An organization's members

members-back-node = К узлу
members-organization = Организация
members-full-name = Полное название
members-kind = Тип
members-city = Город
members-zone = Часовой пояс
members-home = Где ведётся
members-mirrored = на другом узле сети; состав меняет его администратор
members-managed-at-home = Состав этой организации ведётся на её собственном узле.
members-title = Сотрудники
members-none = В организации пока нет сотрудников.
members-name = Имя
members-email = Эл. почта
members-email-optional = Эл. почта (необязательно)
members-role = Роль
members-since = В организации с
members-remove = Исключить
members-removed = Сотрудник исключён; его сеансы завершены.
members-add = Добавить сотрудника
members-add-button = Добавить
members-added = Сотрудник добавлен. Выдайте ему ссылку для входа.

## One member

members-link = Ссылка для входа
members-link-explain = Одноразовая ссылка: открыв её, сотрудник войдёт в edufed в своём браузере. Передайте её лично или по почте.
members-link-ttl = Действует
members-link-button = Выдать ссылку для входа
members-link-issued = Ссылка для входа сотрудника
members-link-once = Ссылка показана один раз: скопируйте её сейчас.
members-link-until = Действует до
members-ttl-15m = 15 минут
members-ttl-1h = 1 час
members-ttl-1d = 1 сутки
members-ttl-3d = 3 суток
members-tokens = Ключи API
members-tokens-explain = Ключи, с которыми программы работают от имени сотрудника. Отозванный ключ перестаёт работать сразу.
members-no-tokens = Ключей нет.
members-token-name = Название
members-token-created = Создан
members-token-expires = Действует до
members-token-forever = бессрочно
members-token-active = Действует
members-token-expired = Истёк
members-token-revoked-state = Отозван
members-token-revoke = Отозвать
members-token-revoked = Ключ отозван.
members-sessions = Открытые сеансы
members-no-sessions = Открытых сеансов нет.

## Signing in through identity providers

members-invitation-button = Создать приглашение
members-invitation-explain = Приглашение связывает с участником учётную запись, которой он войдёт через поставщика входа региона, — любую, даже без подтверждённой почты. Оно срабатывает один раз.
members-invitation-issued = Приглашение (передайте участнику)
members-identity-unbound = Учётная запись отвязана; её сеансы завершены.
identities-heading = Вход через поставщиков
identities-none = С этим человеком не связано ни одной учётной записи поставщика входа.
identities-issuer = Поставщик входа
identities-email = Почта
identities-bound-by = Как связана
identities-last = Последний вход
identities-unbind = Отвязать
sign-in-policy-title = Вход участников
sign-in-policy-label = Как участники входят в edufed
sign-in-policy-any = Любым способом, и по одноразовым ссылкам
sign-in-policy-only = Только через { $issuer }
sign-in-policy-explain = Если выбран поставщик входа, одноразовые ссылки участников перестают работать; приглашения по-прежнему связывают учётные записи.
sign-in-policy-save = Сохранить
sign-in-policy-saved = Способ входа участников сохранён.

members-erase = Удаление персональных данных
members-erase-explain = По заявлению сотрудника: его имя и почта удаляются с узла, он выходит из организаций, его ключи и сеансы прекращаются; в мероприятиях, где он координатор, и в заявках, где он педагог, имя заменяется ролью — и на узлах-партнёрах тоже. Действия в журнале остаются без имени. Отменить нельзя.
members-erase-confirm = Понимаю, что удаление нельзя отменить
members-erase-confirm-missing = Отметьте, что понимаете: удаление нельзя отменить
members-erase-button = Удалить персональные данные
members-erased = Персональные данные сотрудника удалены; узлы-партнёры получили уведомление.
