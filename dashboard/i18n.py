"""The one message catalog: every user-visible string, in Russian (default) and English."""
from __future__ import annotations

from contextvars import ContextVar

from queries.region import REGION

CAP_RU, CAP_EN = REGION.capital_genitive_ru, REGION.capital_en  # «районы Новосибирска»

LANGS = ("ru", "en")
_lang: ContextVar[str] = ContextVar("lang", default="ru")

M: dict[str, tuple[str, str]] = {
    # app shell
    "app.title": ("Пульс ЦУР", "CUR Pulse"),
    "app.subtitle": (f"Обращения жителей {REGION.name_genitive_ru}", f"Citizens' appeals, {REGION.name_en}"),
    "nav.overview": ("Обзор", "Overview"),
    "nav.topics": ("Темы", "Topics"),
    "nav.territories": ("Территории", "Territories"),
    "nav.executors": ("Исполнители", "Executors"),
    "nav.speed": ("Сроки", "Response times"),
    "nav.cases": ("Обращения", "Cases"),
    "nav.press": ("Для СМИ", "For the press"),
    "replica.read_only": ("Основная база недоступна: панель работает только на чтение. Вход новых пользователей, "
                          "загрузка и подписки — когда она вернётся.",
                          "The main database is unavailable: the dashboard is read-only. Signing in anew, imports and "
                          "subscriptions wait until it is back."),
    "replica.behind": ("Данные копии базы на {when}: основная база новее примерно на {lag}.",
                       "The data come from a database copy as of {when}: the main database is about {lag} ahead."),
    "replica.sign_in_later": ("Основная база недоступна: вход станет возможен, когда она вернётся. Уже вошедшие "
                              "пользователи продолжают работу.", "The main database is unavailable: signing in will "
                              "be possible when it is back. Users already signed in carry on."),
    "map.title": ("Карта области", "Map of the oblast"),
    "map.help": ("Цвет — выбранный показатель территории; у показателей с направлением середина шкалы — медиана "
                 "территорий (у изменения — ноль), красное — хуже. Районы Новосибирска — справа. Щелчок открывает "
                 "профиль территории.", "The colour is the territory's chosen measure; for measures with a "
                 "direction the middle of the scale is the territories' median (for the change, zero), red is worse. "
                 "Novosibirsk's districts are on the right. A click opens the territory's profile."),
    "map.metric": ("Показатель на карте", "Measure on the map"),
    "map.metric.received_change": ("Изменение числа обращений", "Change in appeals"),
    "map.hover": ("{name}<br>{value}<br>место {place} из {n}", "{name}<br>{value}<br>rank {place} of {n}"),
    "map.city_districts": ("{city}: районы", "{city}: districts"),
    "map.attribution": ("Границы: © участники OpenStreetMap, ODbL", "Boundaries: © OpenStreetMap contributors, ODbL"),
    "nav.spikes": ("Всплески", "Spikes"),
    "spikes.intro": ("Сочетания территории и темы, где за неделю поступило больше обращений, чем ожидалось по их "
                     "собственной истории: те же недели прошлых лет и последние 8 недель. Рост центра и ежегодный "
                     "снег учтены; без истории (меньше года) — без оценки.",
                     "Territory and topic pairs that received more appeals in the week than their own history "
                     "predicts: the same weeks of earlier years and the last 8 weeks. The centre's growth and the "
                     "yearly snow are taken into account; without history (under a year), no estimate."),
    "spikes.week": ("Неделя (пн–вс)", "Week (Mon–Sun)"),
    "spikes.week.open": ("{when} (неделя не закончилась)", "{when} (the week is not over)"),
    "spikes.level": ("Уровень", "Level"),
    "spikes.none": ("Необычных всплесков за неделю нет.", "No unusual spikes in the week."),
    "spikes.no_history": ("Для этой недели мало истории (нужен хотя бы год данных до неё): оценка не строится.",
                          "Too little history for this week (at least a year of data before it is needed): no estimate."),
    "spikes.found": ("Всплесков: {n}", "Spikes: {n}"),
    "spikes.own_first": ("Сначала — ваши территории.", "Your territories first."),
    "spikes.col.what": ("Что необычно", "What is unusual"),
    "spikes.col.received": ("Поступило", "Received"),
    "spikes.col.expected": ("Ожидалось", "Expected"),
    "spikes.col.score": ("Необычность", "Unusualness"),
    "spikes.col.weeks": ("26 недель", "26 weeks"),
    "spikes.col.cases": ("Обращения", "Cases"),
    "spikes.open_cases": ("открыть", "open"),
    "spikes.score.help": ("Насколько маловероятно столько обращений при ожидаемом: −log₁₀ вероятности; 3 — одна "
                          "неделя из тысячи.", "How unlikely that many appeals were given the expectation: −log₁₀ of "
                          "the probability; 3 is one week in a thousand."),
    "spikes.overview": ("Необычное на неделе", "Unusual this week"),
    "spikes.overview.more": ("Все всплески", "All spikes"),
    "press.intro": ("Текст для публикации в стиле сообщений ЦУР: числа — те же, что на страницах панели, с "
                    "определениями и временем выгрузки. Кнопка в углу блока копирует текст.",
                    "A text to publish in the centres' style: the numbers are the dashboard's, with their definitions "
                    "and as-of time. The button in the block's corner copies the text."),
    "press.kind": ("Период", "Period"), "press.kind.month": ("Месяц", "Month"), "press.kind.week": ("Неделя", "Week"),
    "press.week": ("Неделя (пн–вс)", "Week (Mon–Sun)"),
    "press.incomplete": ("Период ещё не закончился: числа — по {end} включительно на момент выгрузки.",
                         "The period has not ended: the figures stand as of the data's time, up to {end}."),
    "press.text": ("Текст", "Text"),
    "press.definitions": ("Определения", "Definitions"),
    "press.chart": ("Картинка для соцсетей, 1080 пикселей", "A picture for social networks, 1080 pixels"),
    "press.download.text": ("Скачать текст", "Download the text"),
    "press.download.png": ("Скачать картинку (PNG)", "Download the picture (PNG)"),
    "nav.methodology": ("Методика", "Methodology"),
    "asof": ("По состоянию на {when}", "As of {when}"),
    "asof.data": ("данные: {first} — {last}", "data: {first} to {last}"),
    "period.label": ("Период: {start} — {end} ({days}); сравнение с {pstart} — {pend}",
                     "Period: {start} to {end} ({days}); compared with {pstart} to {pend}"),
    # sign-in and roles
    "auth.username": ("Имя пользователя", "User name"),
    "auth.password": ("Пароль", "Password"),
    "auth.sign_in": ("Войти", "Sign in"),
    "auth.sign_in_oidc": ("Войти через единую учётную запись", "Sign in with the single sign-on"),
    "auth.sign_out": ("Выйти", "Sign out"),
    "auth.failed": ("Неверное имя пользователя или пароль.", "Wrong user name or password."),
    "auth.throttled": ("Слишком много неудачных попыток входа. Попробуйте снова через 15 минут.",
                       "Too many failed sign-ins. Try again in 15 minutes."),
    "auth.ended": ("Сеанс завершён: учётная запись отключена, изменена или срок входа истёк. Войдите снова.",
                   "Your session has ended: the account was disabled or changed, or the sign-in expired. "
                   "Please sign in again."),
    "auth.signed_out": ("Вы вышли из дашборда.", "You have signed out."),
    "auth.no_role": ("Для вашей учётной записи не назначена роль в дашборде. Обратитесь к администратору.",
                     "Your account has no role in the dashboard. Ask the administrator."),
    "auth.signed_in": ("{name} · {role}", "{name} · {role}"),
    "role.analyst": ("министр / аналитик", "minister / analyst"),
    "role.press": ("пресс-служба", "press office"),
    "role.head": ("глава муниципалитета", "municipal head"),
    "role.executor": ("исполнитель", "executor"),
    "auth.scope.head": ("Обращения и карточки — только по вашей территории: {names}.",
                        "Case lists and cards: your territory only: {names}."),
    "auth.scope.executor": ("Показаны только обращения и показатели вашей организации.",
                            "Only your organization's cases and figures are shown."),
    "auth.scope.press": ("Персональные данные в текстах скрыты.", "Personal data in texts is masked."),
    "cases.search.press": ("Для пресс-службы поиск — только по номеру обращения (тексты скрыты).",
                           "For the press office, search by appeal number only (texts are masked)."),
    "auth.denied": ("Эта страница недоступна для вашей роли.", "This page is not available to your role."),
    "nav.audit": ("Журнал", "Audit log"),
    # the import page (ingest behind it)
    "nav.import": ("Загрузка", "Import"),
    "import.intro": (
        "Загрузка выгрузки другой системы (CSV в UTF-8 или Windows-1251, или XLSX) через файл соответствия полей. "
        "Обращения сопоставляются по внешнему номеру: новые добавляются, изменившиеся обновляются с событиями в "
        "хронологии, повторная загрузка того же файла ничего не меняет. Файл загружается целиком или не "
        "загружается вовсе; строки с ошибками не загружаются и перечисляются с причиной. «Проверить» ничего не записывает.",
        "Load another system's export (CSV in UTF-8 or Windows-1251, or XLSX) through a mapping file. Appeals are "
        "matched by their external id: new ones are added, changed ones updated with timeline events, and loading "
        "the same file again changes nothing. A file loads whole or not at all; rows with errors are not loaded "
        "and are listed with the reason. \"Check\" writes nothing."),
    "import.file": ("Файл выгрузки (CSV или XLSX)", "Export file (CSV or XLSX)"),
    "import.dropzone": ("Перетащите файл сюда (CSV или XLSX, до 100 МБ)", "Drop a file here (CSV or XLSX, up to 100 MB)"),
    "import.browse": ("Выбрать файл", "Choose a file"),
    "import.file.help": ("До 100 МБ. Файлы больше загружаются командой python -m ingest, которая читает их по частям.",
                         "Up to 100 MB. Larger files load with python -m ingest, which reads them in chunks."),
    "import.mapping": ("Соответствие полей", "Field mapping"),
    "import.mapping.cur_export": ("Выгрузка Пульса ЦУР (собственный формат)", "CUR Pulse export (our own format)"),
    "import.mapping.example_incident": ("Пример: выгрузка системы инцидентов (русские заголовки, «;»)",
                                        "Example: an incident system's export (Russian headers, ';')"),
    "import.mapping.own": ("Свой файл соответствия (TOML)…", "My own mapping file (TOML)…"),
    "import.mapping.upload": ("Файл соответствия (TOML)", "Mapping file (TOML)"),
    "import.mapping.help": ("Формат файла соответствия с полным примером описан в документации проекта, файл docs/importing.md.",
                            "The mapping format, with a complete example: docs/importing.md, section 'The mapping file'."),
    "import.sheet": ("Лист книги Excel", "Excel sheet"),
    "import.sheet.help": ("По умолчанию — лист, названный в файле соответствия, иначе первый.",
                          "By default the sheet the mapping names, else the first."),
    "import.sheet.default": ("по файлу соответствия или первый", "the mapping's, or the first"),
    "import.check": ("Проверить без записи", "Check without writing"),
    "import.load": ("Загрузить", "Load"),
    "import.running": ("Идёт чтение и проверка файла…", "Reading and checking the file…"),
    "import.need_file": ("Выберите файл выгрузки.", "Choose an export file."),
    "import.need_mapping": ("Выберите файл соответствия.", "Choose a mapping file."),
    "import.nothing_written": ("В базу ничего не записано.", "Nothing was written."),
    "import.result.dry": (
        "Проверка «{name}»: прочитано {read} = будет добавлено {inserted} + обновлено {updated} + без изменений "
        "{unchanged} + отклонено {rejected}; событий в хронологии: {events}. В базу ничего не записано.",
        "Check of '{name}': read {read} = would insert {inserted} + update {updated} + unchanged {unchanged} + "
        "rejected {rejected}; timeline events: {events}. Nothing was written."),
    "import.result.done": (
        "Загружен «{name}»: прочитано {read} = добавлено {inserted} + обновлено {updated} + без изменений "
        "{unchanged} + отклонено {rejected}; событий в хронологии: {events}; {seconds} с. Показатели пересчитаны.",
        "Loaded '{name}': read {read} = inserted {inserted} + updated {updated} + unchanged {unchanged} + "
        "rejected {rejected}; timeline events: {events}; {seconds} s. The figures are recomputed."),
    "import.rejects.title": ("Отклонённые строки", "Rejected rows"),
    "import.rejects.note": (
        "Показано {shown} из {total}. В файле — номер строки, столбец, причина и исходные поля; исправленные "
        "строки можно загрузить снова.",
        "{shown} of {total} shown. The file holds the line, the column, the reason and the original fields; "
        "corrected rows can be loaded again."),
    "import.rejects.line": ("Строка", "Line"),
    "import.rejects.column": ("Столбец", "Column"),
    "import.rejects.reason": ("Причина", "Reason"),
    "import.rejects.whole_row": ("вся строка", "whole row"),
    "import.rejects.download": ("Скачать отклонённые строки (CSV)", "Download the rejected rows (CSV)"),
    "import.error.database": (
        "Загрузка не выполнена, база данных не изменилась: {reason}. Если приложение подключено к базе только "
        "для чтения, задайте подключение владельца ADMIN_DATABASE_URL (документация проекта, файл docs/access.md, раздел о ролях базы данных).",
        "The import did not run and the database is unchanged: {reason}. If the app connects with a read-only "
        "role, set the owner's connection ADMIN_DATABASE_URL (docs/access.md, 'Database roles')."),
    "import.error.input_csv": ("Файл не читается как текст CSV: его первая строка не разбирается.",
                               "The file is not CSV text: its first line cannot be read."),
    "import.error.input_csv_binary": ("Это книга Excel, а не CSV: выберите соответствие с форматом xlsx или auto.",
                                      "This is an Excel workbook, not CSV: choose a mapping with format xlsx or auto."),
    "import.error.input_xlsx": ("Файл не читается как книга Excel (XLSX).", "The file is not an Excel workbook (XLSX)."),
    "import.error.input_xlsx_size": ("Книга Excel распаковывается в {size} МБ, а допустимо не больше {limit} МБ. "
                                     "Большие выгрузки загружайте как CSV через командную строку.",
                                     "The workbook unpacks to {size} MB; at most {limit} MB is accepted. Load large "
                                     "exports as CSV from the command line."),
    "import.error.input_xlsx_ratio": ("Книга Excel сжата в {ratio} раз (допустимо не больше {limit}): это не похоже "
                                      "на выгрузку обращений, файл не обработан.",
                                      "The workbook is compressed {ratio} times (at most {limit}): it does not look "
                                      "like an export of appeals and was not processed."),
    "import.error.input_xlsx_strings": ("Тексты книги Excel занимают {size} МБ, а допустимо не больше {limit} МБ. "
                                        "Загрузите её как CSV через командную строку.",
                                        "The workbook's texts take {size} MB; at most {limit} MB is accepted. Load "
                                        "it as CSV from the command line."),
    "import.error.input_xlsx_dimension": ("Лист книги Excel объявляет {rows} строк на {columns} столбцов (допустимо "
                                          "не больше {max_columns} столбцов и {max_cells} ячеек): файл не обработан.",
                                          "A sheet of the workbook declares {rows} rows by {columns} columns (at most "
                                          "{max_columns} columns and {max_cells} cells): the file was not processed."),
    "import.error.input_sheet": ("В книге нет листа «{sheet}»; листы: {sheets}.",
                                 "The workbook has no sheet '{sheet}'; its sheets: {sheets}."),
    "import.error.input_columns": (
        "В файле нет столбцов, которые называет файл соответствия: {columns}. Заголовок файла: {header}. "
        "Проверьте заголовок, разделитель и выбор соответствия.",
        "The file lacks the columns the mapping names: {columns}. The file's header: {header}. Check the header "
        "row, the delimiter and the chosen mapping."),
    "import.error.input_not_found": ("Файл {path} не найден.", "File {path} not found."),
    "import.error.input_interrupted": ("Загрузка прервана.", "The import was interrupted."),
    "import.error.input_summaries": (
        "Сводные таблицы не совпадают с обращениями в базе (их меняли в обход загрузки). Ничего не записано: "
        "пересоберите их командой python -m queries.summaries build и загрузите файл снова.",
        "The summary tables do not match the appeals in the database (they were changed around the import). "
        "Nothing was written: rebuild them with python -m queries.summaries build and import the file again."),
    "import.error.mapping_not_found": ("Файл соответствия {path} не найден.", "Mapping file {path} not found."),
    "import.error.mapping_toml": ("Файл соответствия — не TOML: ошибка в строке {line}.",
                                 "The mapping file is not valid TOML: an error on line {line}."),
    "import.error.mapping_section": ("В файле соответствия раздел [{section}] должен быть таблицей «имя = значение».",
                                     "In the mapping file, [{section}] must be a table of names and values."),
    "import.error.mapping_fields": ("В файле соответствия неизвестные поля: {fields}. Допустимые: {known}.",
                                    "The mapping names unknown fields: {fields}. Known: {known}."),
    "import.error.mapping_required": ("В файле соответствия нет столбца или значения для обязательных полей: {fields}.",
                                      "The mapping gives no column or constant for required fields: {fields}."),
    "import.error.mapping_dimension": ("Раздел [map.{name}] не относится ни к одному справочнику ({known}).",
                                       "[map.{name}] is not a dimension ({known})."),
    "import.error.mapping_timezone": ("Неизвестный часовой пояс «{tz}».", "Unknown time zone '{tz}'."),
    "import.error.mapping_encoding": ("Кодировка «{encoding}» не поддерживается: utf-8, cp1251 или auto.",
                                      "Encoding '{encoding}' is not supported: utf-8, cp1251 or auto."),
    "import.error.mapping_format": ("Формат «{format}» не поддерживается: csv, xlsx или auto.",
                                    "Format '{format}' is not supported: csv, xlsx or auto."),
    "import.error.mapping_delimiter": ("Разделитель «{delimiter}» не поддерживается: «,», «;», табуляция или auto.",
                                       "Delimiter '{delimiter}' is not supported: ',', ';', tab or auto."),
    "import.error.mapping_date_format": ("Формат даты «{format}» — не формат strptime (например, %d.%m.%Y %H:%M).",
                                         "Date format '{format}' is not a strptime format (e.g. %d.%m.%Y %H:%M)."),
    "import.error.mapping_fallback": ("Запасное значение [fallback] {dim} = «{value}» не найдено в справочнике.",
                                      "The fallback {dim} = '{value}' is not a known value."),
    "import.error.mapping_precision": (
        "В разделе [precision] «{field} = {value}»: допустимы поля дат ({known}) и значения day или exact.",
        "[precision] '{field} = {value}': a date field ({known}) and day or exact."),
    "import.error.mapping_authoritative": (
        "authoritative в разделе [input] — это \"all\" или список полей ({known}).",
        "authoritative in [input] is \"all\" or a list of fields ({known})."),
    "import.error.input_utf16": (
        "Файл в кодировке UTF-16 (в Excel — «Текст в Юникоде»): сохраните его как CSV в UTF-8 или Windows-1251.",
        "The file is in UTF-16 (Excel's 'Unicode text'): save it as CSV in UTF-8 or Windows-1251."),
    "import.error.unexpected": (
        "Загрузка не удалась из-за ошибки программы ({kind}); в базу ничего не записано. Сообщите о ней "
        "администратору, приложив первые строки файла и файл соответствия.",
        "The import failed on a defect of the program ({kind}); nothing was written. Please report it to the "
        "administrator with the file's first lines and the mapping."),
    "import.error.mapping_target": ("В разделе [map.{dim}] «{word}» = «{value}»: такого значения нет в справочнике.",
                                    "In [map.{dim}], '{word}' = '{value}': not a known value."),
    "import.error.mapping_template": (
        "Шаблон [template] {field} должен называть столбцы файла в фигурных скобках, например «{{Категория}}: "
        "{{Описание}}», а поле не должно быть и в [columns].",
        "The template [template] {field} must name the file's columns in braces, e.g. '{{Category}}: "
        "{{Description}}', and the field must not be in [columns] too."),
    "import.error.mapping_first_response": (
        "first_response в разделе [input] — «column» (из столбца) или «closing» (ответом считается закрытие), "
        "а не «{value}».",
        "first_response in [input] is \"column\" or \"closing\" (the closing is the first response), not '{value}'."),
    "import.error.input_confirm": (
        "Загрузка изменила бы {changed} из {stored} сохранённых обращений ({share} %, больше {limit} %). Нажмите "
        "«Проверить без записи», просмотрите изменения и подтвердите их.",
        "The load would change {changed} of {stored} stored appeals ({share}%, more than {limit}%). Press "
        "\"Check without writing\", review the changes and confirm them."),
    "import.error.input_plan_changed": (
        "С момента проверки обращения в базе изменились, и загрузка изменила бы не то, что было показано. "
        "Проверьте файл снова.",
        "The stored appeals changed since the check: the load would not change what was shown. Check the file again."),
    "import.plan.title": ("Что изменится в базе", "What the load changes"),
    "import.plan.summary": (
        "Новых обращений: {new}. Изменятся {changed} из {stored} сохранённых обращений ({share}); без изменений: "
        "{unchanged}.",
        "New appeals: {new}. {changed} of {stored} stored appeals change ({share}); unchanged: {unchanged}."),
    "import.plan.none": ("Сохранённые обращения не изменятся. Новых обращений: {new}.",
                         "No stored appeal changes. New appeals: {new}."),
    "import.plan.field": ("Поле", "Field"),
    "import.plan.changed": ("Изменится обращений", "Appeals changed"),
    "import.plan.examples": ("Примеры: номер, было → станет", "Examples: id, before → after"),
    "import.plan.kept": ("Сохранено из базы", "Kept from the database"),
    "import.plan.kept.day": ("{n}: в файле только дата, в базе точное время", "{n}: the file has the day only, "
                             "the database the time"),
    "import.plan.kept.empty": ("{n}: в файле пусто, в базе заполнено", "{n}: empty in the file, filled in the database"),
    "import.plan.kept_examples": ("Примеры сохранённых: номер, в базе (в файле)", "Kept, e.g.: id, stored (in the file)"),
    "import.plan.empty_value": ("пусто", "empty"),
    "import.plan.note": (
        "Поле, которое файл заполняет хуже, чем база (дата без времени, пустое значение), остаётся прежним, если "
        "файл соответствия не объявляет этот файл главным источником для поля. «Загрузить» запишет ровно эти "
        "изменения.",
        "A field the file fills less well than the database (a day without a time, an empty value) is not changed "
        "unless the mapping names it in authoritative. \"Load\" writes exactly these changes."),
    "import.plan.confirm": ("Подтверждаю: загрузка изменит {changed} из {stored} сохранённых обращений ({share})",
                            "I confirm: the load changes {changed} of {stored} stored appeals ({share})"),
    "import.plan.confirm_needed": (
        "Загрузка изменит больше {limit} сохранённых обращений: отметьте подтверждение, чтобы загрузить.",
        "The load changes more than {limit} of the stored appeals: tick the confirmation to load."),
    "import.field.received_at": ("дата поступления", "received"), "import.field.source": ("источник", "source"),
    "import.field.source_url": ("ссылка", "link"), "import.field.author_ref": ("автор", "author"),
    "import.field.text": ("текст", "text"), "import.field.territory": ("территория", "territory"),
    "import.field.topic": ("тема", "topic"), "import.field.executor": ("исполнитель", "executor"),
    "import.field.status": ("статус", "status"), "import.field.response_due_at": ("срок ответа", "response due"),
    "import.field.first_response_at": ("первый ответ", "first response"),
    "import.field.closed_at": ("дата закрытия", "closed"), "import.field.escalated_at": ("дата эскалации", "escalated"),
    "import.field.escalated_to": ("эскалировано в", "escalated to"),
    "import.field.citizen_feedback": ("подтверждение гражданина", "citizen's confirmation"),
    "import.field.citizen_rating": ("оценка", "rating"), "import.field.reopened_count": ("повторные открытия", "reopenings"),
    "import.field.response_measured": ("измерение ответа", "response measured"),
    "card.not_measured": ("нет данных (источник не сообщает время ответа)",
                          "no data (the source gives no response times)"),
    "import.field.reach": ("охват", "reach"),
    "audit.title": ("Журнал доступа", "Audit log"),
    "audit.at": ("Когда", "When"), "audit.user": ("Пользователь", "User"), "audit.role": ("Роль", "Role"),
    "audit.action": ("Действие", "Action"), "audit.target": ("Объект", "Target"), "audit.details": ("Подробности", "Details"),
    "audit.yes": ("да", "yes"), "audit.no": ("нет", "no"),
    "audit.do.login": ("вход", "signed in"), "audit.do.login_failed": ("неудачный вход", "failed sign-in"),
    "audit.do.logout": ("выход", "signed out"), "audit.do.session_refused": ("сеанс прекращён", "session ended"),
    "audit.do.open_case": ("открыта карточка", "opened a case"),
    "audit.do.open_case_refused": ("карточка вне доступа", "case outside the scope"),
    "audit.do.open_case_missing": ("карточка не существует", "case that does not exist"),
    "audit.do.search": ("поиск", "search"), "audit.do.export": ("выгрузка", "export"),
    "audit.do.download": ("скачан файл", "file downloaded"), "audit.do.import": ("загрузка данных", "import"),
    "audit.do.import_check": ("проверка загрузки", "import check"),
    "audit.do.import_refused": ("загрузка отклонена", "import refused"),
    "audit.key.filters": ("фильтры", "filters"), "audit.key.from": ("с", "from"), "audit.key.to": ("по", "to"),
    "audit.key.territory": ("территория", "territory"), "audit.key.topic": ("тема", "topic"),
    "audit.key.source": ("источник", "source"), "audit.key.executor": ("исполнитель", "executor"),
    "audit.key.lang": ("язык", "language"), "audit.key.rows": ("строк", "rows"),
    "audit.key.search": ("поиск", "search"), "audit.key.found": ("найдено", "found"),
    "audit.key.client": ("адрес", "address"), "audit.key.throttled": ("заблокирован", "throttled"),
    "audit.key.dry_run": ("проверка", "dry run"), "audit.key.reason": ("причина", "reason"),
    "audit.key.mapping": ("соответствие", "mapping"), "audit.key.read": ("прочитано", "read"),
    "audit.key.inserted": ("добавлено", "inserted"), "audit.key.updated": ("обновлено", "updated"),
    "audit.key.unchanged": ("без изменений", "unchanged"), "audit.key.rejected": ("отклонено", "rejected"),
    # filters
    "filters.header": ("Фильтры", "Filters"),
    "filters.period": ("Период", "Period"),
    "filters.preset.7d": ("7 дней", "7 days"),
    "filters.preset.30d": ("30 дней", "30 days"),
    "filters.preset.quarter": ("Квартал (90 дней)", "Quarter (90 days)"),
    "filters.preset.year": ("Год (365 дней)", "Year (365 days)"),
    "filters.preset.this_week": ("Эта неделя", "This week"),
    "filters.preset.last_week": ("Прошлая неделя (пн–вс)", "Last week (Mon–Sun)"),
    "filters.preset.this_month": ("Этот месяц", "This month"),
    "filters.preset.last_month": ("Прошлый месяц", "Last month"),
    "filters.preset.this_quarter": ("Этот квартал", "This quarter"),
    "filters.preset.last_quarter": ("Прошлый квартал", "Last quarter"),
    "filters.preset.ytd": ("С начала года", "Year to date"),
    "filters.preset.last_year": ("Прошлый год", "Last year"),
    "filters.preset.month": ("Месяц…", "A month…"),
    "filters.month": ("Месяц", "Month"),
    "filters.preset.all": ("Вся история ЦУР", "The centre's whole history"),
    "filters.preset.custom": ("Произвольный", "Custom"),
    "filters.dates": ("Даты (включительно)", "Dates (inclusive)"),
    "filters.territory": ("Территория", "Territory"),
    "filters.topic": ("Тема", "Topic"),
    "filters.source": ("Источник", "Source"),
    "filters.executor": ("Исполнитель", "Executor"),
    "filters.all": ("все", "all"),
    "filters.reset": ("Сбросить фильтры", "Reset filters"),
    "filters.invalid": ("Параметр ссылки «{param}» = «{value}» не распознан и пропущен.",
                        "URL parameter '{param}' = '{value}' was not recognised and is ignored."),
    "filters.lang": ("English", "Русский"),
    # sources
    "source.vk": ("ВКонтакте", "VK"), "source.ok": ("Одноклассники", "OK"),
    "source.telegram": ("Telegram", "Telegram"), "source.instagram": ("Instagram", "Instagram"),
    "source.facebook": ("Facebook", "Facebook"), "source.pos": ("Госуслуги (ПОС)", "Gosuslugi (POS)"),
    "source.website": ("Сайт", "Website"), "source.other": ("Другое", "Other"),
    # statuses and events
    "status.new": ("новое", "new"), "status.assigned": ("назначено", "assigned"),
    "status.in_progress": ("в работе", "in progress"), "status.resolved": ("решено", "resolved"),
    "status.explained": ("разъяснено", "explained"), "status.declined": ("отклонено", "declined"),
    "event.received": ("Поступило", "Received"), "event.assigned": ("Назначено исполнителю", "Assigned"),
    "event.reassigned": ("Переназначено", "Reassigned"), "event.response": ("Первый ответ", "First response"),
    "event.interim_response": ("Промежуточный ответ", "Interim response"),
    "event.escalated": ("Эскалация", "Escalated"), "event.closed": ("Закрыто", "Closed"),
    "event.citizen_confirmed": ("Житель подтвердил решение", "Citizen confirmed"),
    "event.citizen_disputed": ("Житель не подтвердил решение", "Citizen disputed"),
    "event.reopened": ("Возвращено в работу", "Reopened"),
    "event.comment_removed": ("Комментарий удалён", "Comment removed"),
    "event.author_blocked": ("Автор заблокирован", "Author blocked"),
    "feedback.confirmed": ("подтвердил", "confirmed"), "feedback.disputed": ("не подтвердил", "disputed"),
    # metrics: labels and definitions (metrics.md, in the app's own words)
    "metric.received.label": ("Поступило", "Received"),
    "metric.received.help": ("Обращения, поступившие в выбранный период (по дате регистрации, по местному времени).",
                             "Appeals registered in the selected period (local time)."),
    "metric.unmeasured.note": (
        "Без данных о сроке ответа: {n} обращ. (источник не сообщает время ответа или сообщает только дату); "
        "в показатель они не входят.",
        "Without response-time data: {n} appeal(s) (the source gives no response times, or the day only); "
        "the figure leaves them out."),
    "briefing.make": ("Справка для министра (ПДФ)", "Minister's briefing (PDF)"),
    "briefing.download": ("Скачать справку", "Download the briefing"),
    "subscribe.button": ("Подписка", "Subscribe"),
    "subscribe.kind": ("Что присылать", "What to send"),
    "subscribe.kind.briefing": ("Справку (файл ПДФ) в пределах моих прав", "The briefing (PDF) within my scope"),
    "subscribe.kind.press": ("Пресс-релиз с картинкой", "The press release with its picture"),
    "subscribe.every": ("Как часто", "How often"),
    "subscribe.every.week": ("каждую неделю", "every week"), "subscribe.every.month": ("каждый месяц", "every month"),
    "subscribe.email": ("Адрес электронной почты", "E-mail address"),
    "subscribe.submit": ("Подписаться", "Subscribe"),
    "subscribe.done": ("Подписка № {id} оформлена: письмо придёт, когда закончится неделя или месяц.",
                       "Subscription {id} made: the mail comes when the week or month has ended."),
    "subscribe.refused": ("Подписка не оформлена: проверьте адрес (один адрес электронной почты).",
                          "Not subscribed: check the address (one e-mail address)."),
    "subscribe.mine": ("№ {id}: {kind}, {every}, {email}", "No. {id}: {kind}, {every}, {email}"),
    "subscribe.cancel": ("Отписаться", "Unsubscribe"),
    "subscribe.note": ("Письма отправляет сервер по расписанию, каждое — один раз.",
                       "The server sends the mail on a schedule, each once."),
    "quote.button": ("Для публикации", "To publish"),
    "quote.help": ("Каждый показатель — одной фразой для публикации, с определением, временем выгрузки, "
                   "фильтрами и ссылкой на этот же вид. Кнопка в углу блока копирует его.",
                   "Each figure as one sentence to publish, with its definition, as-of time, filters and a link to "
                   "this same view. The button in the block's corner copies it."),
    "quote.sentence": ("{when} — {label}: {value}{counts}.", "{when} — {label}: {value}{counts}."),
    "quote.sentence_of": ("{subject}, {when} — {label}: {value}{counts}.", "{subject}, {when} — {label}: {value}{counts}."),
    "quote.row": ("Строка таблицы", "Table row"),
    "quote.row_help": ("Показатели выбранной строки — каждый одной фразой для публикации, с определением, "
                       "временем выгрузки, фильтрами и ссылкой на вид этой строки.",
                       "The chosen row's figures, each as one sentence to publish, with its definition, as-of time, "
                       "filters and a link to this row's view."),
    "table.share_of": ("{share} ({num} из {den})", "{share} ({num} of {den})"),
    "export.share_num": ("{label}: число", "{label}: count"),
    "export.share_den": ("{label}: из", "{label}: of"),
    "quote.of": (" ({num} из {den})", " ({num} of {den})"),
    "quote.exact": (" (точно: {n})", " (exactly {n})"),
    "quote.definition": ("Определение: {text}", "Definition: {text}"),
    "quote.filters": ("Фильтры: {text}", "Filters: {text}"),
    "quote.link": ("Ссылка: {url}", "Link: {url}"),
    "no_data": ("нет данных", "no data"),
    "metric.per_10k.label": ("На 10 тыс. жителей", "Per 10k residents"),
    "metric.per_10k.help": ("Поступило ÷ численность населения × 10 000 (только для территорий).",
                            "Received ÷ population × 10,000 (territories only)."),
    "metric.closed.label": ("Отработано", "Closed"),
    "metric.closed.help": ("Обращения периода в статусе «решено», «разъяснено» или «отклонено».",
                           "Appeals of the period whose status is resolved, explained or declined."),
    "metric.resolved.label": ("Решено", "Resolved"),
    "metric.resolved.help": ("Обращения периода в статусе «решено».", "Appeals of the period with status resolved."),
    "metric.open.label": ("В работе", "Open"),
    "metric.open.help": ("Обращения периода в статусе «новое», «назначено» или «в работе».",
                         "Appeals of the period that are new, assigned or in progress."),
    "metric.resolved_share.label": ("Доля решённых", "Resolved share"),
    "metric.resolved_share.help": ("Решено ÷ поступило.", "Resolved ÷ received."),
    "metric.confirmed_share.label": ("Подтверждено жителем", "Confirmed by citizen"),
    "metric.confirmed_share.help": ("Среди решённых обращений с ответом жителя — доля, где житель подтвердил решение.",
                                    "Of resolved appeals where the citizen answered, the share confirmed."),
    "metric.false_closure_share.label": ("Не подтверждено", "Not confirmed"),
    "metric.false_closure_share.help": ("Доля решённых, где житель не подтвердил решение или обращение открывали повторно.",
                                        "Share of resolved appeals the citizen disputed or that were reopened."),
    "metric.satisfaction.label": ("Удовлетворённость", "Satisfaction"),
    "metric.satisfaction.help": ("Доля оценок 4–5 среди всех оценок жителей.", "Share of ratings 4–5 among all ratings."),
    "metric.escalated_share.label": ("Эскалировано", "Escalated"),
    "metric.escalated_share.help": ("Доля обращений, переданных вышестоящему органу (например, из поликлиники в Минздрав).",
                                    "Share of appeals escalated to a higher body (e.g. clinic → Ministry of Health)."),
    "metric.removed.label": ("Удалено / заблокировано", "Removed / blocked"),
    "metric.removed.help": ("Обращения, по которым удалили комментарий или заблокировали автора.",
                            "Appeals whose comment was removed or whose author was blocked."),
    "metric.on_time_share.label": ("В срок", "On time"),
    "metric.on_time_share.help": ("Ответ в срок ÷ (в срок + с опозданием + без ответа после срока). Обращения, срок которых ещё не истёк, не учитываются.",
                                  "On time ÷ (on time + late + unanswered past the deadline). Appeals still within their deadline are left out."),
    "metric.overdue_now.label": ("Просрочено сейчас", "Overdue now"),
    "metric.overdue_now.help": ("Незакрытые обращения без ответа, срок ответа по которым уже прошёл.",
                                "Open appeals with no response whose deadline has passed."),
    "metric.first_response_median.label": ("Время первой реакции", "Time to first response"),
    "metric.first_response_median.help": ("Медиана времени от регистрации до первого публичного ответа, в рабочих часах (пн–пт 9–18, по производственному календарю).",
                                          "Median time from registration to the first public answer, in working hours (Mon–Fri 9–18, production calendar)."),
    "metric.first_response_p90.label": ("Первая реакция, 90-й перцентиль", "First response, 90th percentile"),
    "metric.first_response_p90.help": ("90 % ответов даны быстрее этого времени (рабочие часы).",
                                       "90% of answers came faster than this (working hours)."),
    "metric.close_time_median.label": ("Время решения", "Time to close"),
    "metric.close_time_median.help": ("Медиана от регистрации до закрытия, в календарных днях, по закрытым обращениям.",
                                      "Median from registration to closing, calendar days, over closed appeals."),
    "metric.time_before_escalation.label": ("Время до эскалации", "Time before escalation"),
    "metric.time_before_escalation.help": ("Медиана от регистрации до эскалации, в рабочих часах.",
                                           "Median from registration to escalation, working hours."),
    "metric.score.label": ("Балл", "Score"),
    "metric.score.help": ("Среднее из долей «В срок», «Доля решённых», «Подтверждено жителем» и «Удовлетворённость» (в %), без показателей с пометкой «мало данных».",
                          "Mean of on-time, resolved, confirmed and satisfaction shares (in %), leaving out those marked 'too little data'."),
    "metric.rank.label": ("Место", "Rank"),
    "metric.rank_change.label": ("Изменение места", "Rank change"),
    "low_data": ("мало данных", "too little data"),
    "low_data.mark": ("*", "*"),
    # (not "* …" at the start: Markdown would make the line a bullet)
    "low_data.note": ("«*» — мало данных: доля посчитана менее чем по 30 обращениям и не участвует в рейтинге.",
                      "“*”: too little data; the share is computed from fewer than 30 appeals and is not ranked."),
    "delta.vs_prev": ("к предыдущему периоду", "vs previous period"),
    "unit.hours": ("ч", "h"), "unit.days": ("дн.", "d"), "unit.pp": ("п. п.", "pp"),
    "hours.calendar": ("{value} календарных ч", "{value} calendar h"),
    # overview
    "overview.title": ("Обзор", "Overview"),
    "overview.flow": ("Поступило и закрыто", "Received and closed"),
    "overview.flow.received": ("Поступило (по дате поступления)", "Received (by date received)"),
    "overview.flow.closed": ("Закрыто (по дате закрытия)", "Closed (by date closed)"),
    "overview.flow.partial.week": ("Штриховка — неполная неделя: период начинается или заканчивается внутри неё, "
                                   "поэтому её значения не сравнимы с соседними.",
                                   "Hatched: a partial week; the period starts or ends inside it, so its values "
                                   "are not comparable with its neighbours'."),
    "overview.flow.partial.month": ("Штриховка — неполный месяц: период начинается или заканчивается внутри него, "
                                    "поэтому его значения не сравнимы с соседними.",
                                    "Hatched: a partial month; the period starts or ends inside it, so its values "
                                    "are not comparable with its neighbours'."),
    "overview.flow.received.partial.week": ("Поступило, неполная неделя", "Received, partial week"),
    "overview.flow.received.partial.month": ("Поступило, неполный месяц", "Received, partial month"),
    "overview.flow.partial.hover": ("неполный период: {inside} из {total} дн.", "partial: {inside} of {total} days"),
    "overview.top_topics": ("Главные темы", "Top topics"),
    "overview.sources": ("Источники", "Sources"),
    "overview.movers": ("Что изменилось сильнее всего", "Top movers"),
    "overview.movers.order": ("По убыванию изменения числа обращений (в обе стороны) к предыдущему периоду; «В срок» — "
                              "изменение доли ответов в срок в процентных пунктах.",
                              "By the change in the number of appeals against the previous period, largest either way; "
                              "\"On time\" is the change of the on-time share in percentage points."),
    "overview.movers.territories": ("Территории", "Territories"),
    "overview.movers.topics": ("Темы", "Topics"),
    "overview.movers.help": ("Изменение числа обращений и доли ответов в срок к предыдущему периоду; не меньше 30 обращений в одном из периодов.",
                             "Change in volume and on-time share against the previous period; at least 30 appeals in either period."),
    "col.name": ("Название", "Name"), "col.previous": ("Было", "Previous"), "col.change": ("Изменение", "Change"),
    "col.change_pct": ("Изменение, %", "Change, %"), "col.on_time_change": ("В срок, изм. п. п.", "On time, change pp"),
    "col.category": ("Категория", "Category"), "col.topic": ("Тема", "Topic"), "col.territory": ("Территория", "Territory"),
    "col.executor": ("Исполнитель", "Executor"), "col.peer_group": ("Группа", "Peer group"),
    "col.population": ("Население", "Population"), "col.kind": ("Тип", "Kind"),
    "col.source": ("Источник", "Source"), "col.count": ("Число", "Count"), "col.date": ("Дата", "Date"),
    "col.id": ("№", "ID"), "col.received_at": ("Поступило", "Received"), "col.status": ("Статус", "Status"),
    "col.due": ("Срок ответа", "Response due"), "col.overdue_hours": ("Просрочка, ч", "Overdue, h"),
    "col.text": ("Текст", "Text"), "col.from": ("Кто передал", "From"), "col.to": ("Кому", "To"),
    "col.median_hours": ("Медиана до эскалации, раб. ч", "Median before escalation, working h"),
    "col.share": ("Доля", "Share"),
    "empty.period": ("За выбранный период обращений нет. Расширьте период или снимите фильтры.",
                     "No appeals in the selected period. Widen the period or clear filters."),
    "empty.database": ("База данных пуста. Загрузите демо-данные командой `make run` или `python -m seed`.",
                       "The database is empty. Load demo data with `make run` or `python -m seed`."),
    "db.unavailable": ("База данных недоступна: {reason}. Когда соединение восстановится, нажмите «Повторить».",
                       "The database is unavailable: {reason}. Once it is back, press \"Retry\"."),
    "db.retry": ("Повторить", "Retry"),
    "export.asof_word": ("на", "asof"),
    "export.capped": ("В выгрузку войдут первые {cap} из {total} обращений в порядке списка. "
                      "Для полной выгрузки сузьте фильтры или используйте команду python -m ingest.export.",
                      "The export holds the first {cap} of {total} appeals in the list's order. For all of "
                      "them, narrow the filters or use the command python -m ingest.export."),
    "export.csv": ("Скачать CSV", "Download CSV"), "export.xlsx": ("Скачать XLSX", "Download XLSX"),
    "export.filters": ("Фильтры", "Filters"),
    "drill.open_cases": ("Открыть обращения", "Open the cases"),
    "drill.hint": ("Щёлкните по строке или столбцу, чтобы сузить фильтры.", "Click a row or bar to narrow the filters."),
    # topics
    "topics.title": ("Темы", "Topics"),
    "topics.treemap": ("Категории и темы (размер — число обращений, цвет — доля в срок)",
                       "Categories and topics (size: appeals, colour: on-time share)"),
    "speed.overdue.first": ("Показаны {shown} старейших из {total}; выгрузка и счёт по исполнителям — по всем.",
                            "The {shown} oldest of {total} are shown; the export and the counts by executor hold all."),
    "speed.trend.settled": ("Сроки ответа истекли", "Deadlines passed"),
    "speed.trend.open": ("Ещё не сравнимо: часть сроков не истекла", "Not yet comparable: some deadlines ahead"),
    "topics.table": ("Показатели по темам", "KPIs by topic"),
    "topics.level": ("Уровень", "Level"),
    "topics.level.category": ("Категории", "Categories"), "topics.level.topic": ("Темы", "Topics"),
    "topics.trend": ("Динамика по темам", "Trend by topic"),
    # territories
    "territories.title": ("Территории", "Territories"),
    "territories.league": ("Рейтинг территорий", "Territory league table"),
    "territories.league.help": (f"Места присваиваются внутри групп (городские округа; муниципальные районы и округа; районы {CAP_RU}) только территориям с 30 и более обращениями.",
                                f"Ranks are given within peer groups (urban okrugs; municipal districts and okrugs; {CAP_EN} city districts), only to rows with at least 30 appeals."),
    "territories.funnel": ("Воронкообразный график: доля в срок и число обращений", "Funnel plot: on-time share against volume"),
    "territories.funnel.help": ("Линии — 95 % и 99,8 % границы биномиального разброса вокруг областного значения: точка между линиями не отличается от области сильнее, чем случайно.",
                                "Lines: 95% and 99.8% binomial control limits around the regional share; points inside them do not differ from the region beyond chance."),
    "territories.funnel.region": ("Область", "Region"),
    "territories.per_capita": ("Обращений на 10 тыс. жителей", "Appeals per 10k residents"),
    "territories.profile": ("Профиль территории: {name}", "Territory profile: {name}"),
    "territories.profile.vs_region": ("Показатели территории и области", "Territory vs region"),
    "territories.profile.region": ("Область", "Region"),
    "territories.profile.topics": ("Темы обращений", "Topic mix"),
    "territories.profile.trend": ("Динамика", "Trend"),
    "territories.profile.executors": ("Исполнители", "Executors"),
    "territories.profile.overdue": ("Просроченные обращения", "Overdue cases"),
    "peer.urban_okrug": ("Городские округа", "Urban okrugs"),
    "executors.own": ("Ваша организация и организации того же вида", "Your organization and those of its kind"),
    "executors.own.help": ("Показатели обращений, назначенных вашей организации, рядом со средним по организациям "
                           "того же вида (больницы — с больницами), у которых за период не меньше 30 обращений.",
                           "The figures of the appeals assigned to your organization beside the average of the "
                           "organizations of its kind (clinics with clinics) with at least 30 appeals in the period."),
    "executors.own.peers": ("Организаций того же вида в сравнении: {n}.", "Organizations of its kind compared: {n}."),
    "executors.own.average": ("Среднее по организациям того же вида", "Average of its kind"),
    "peer.of.urban_okrug": ("городских округов", "urban okrugs"),
    "peer.of.municipal": ("муниципальных районов и округов", "municipal districts and okrugs"),
    "peer.of.city_district": (f"районов {CAP_RU}", f"{CAP_EN} city districts"),
    "territories.rank.group": ("{rank}-е место из {n} {group}", "Rank {rank} of {n} {group}"),
    "territories.rank.none": ("Без места в рейтинге: мало данных", "No rank: too little data"),
    "territories.rank.per_10k": ("{rank}-е из {n} в области по обращениям на 10 тыс. жителей",
                                 "{rank} of {n} in the region by appeals per 10,000 residents"),
    "territories.profile.peers": ("Среднее по группе", "Peer group average"),
    "peer.municipal": ("Муниципальные районы и округа", "Municipal districts and okrugs"),
    "peer.city_district": (f"Районы {CAP_RU}", f"{CAP_EN} city districts"),
    "peer.ministry": ("Министерства и ведомства", "Ministries and agencies"),
    "peer.municipal_admin": ("Администрации", "Administrations"),
    "peer.clinic": ("Медицинские организации", "Medical organisations"),
    "peer.utility": ("Ресурсоснабжающие и операторы", "Utilities and operators"),
    # executors
    "executors.title": ("Исполнители", "Executors"),
    "executors.league": ("Рейтинг исполнителей", "Executor league table"),
    "executors.league.help": ("Места присваиваются внутри групп исполнителей только при 30 и более обращениях.",
                              "Ranks are given within executor groups, only with at least 30 appeals."),
    "executors.escalations": ("Эскалации: кто кому передаёт", "Escalations: who escalates to whom"),
    # speed
    "speed.title": ("Сроки", "Response times"),
    "speed.distribution": ("Время первой реакции, рабочие часы", "Time to first response, working hours"),
    "speed.norm": ("норматив {hours} ч", "norm {hours} h"),
    "speed.on_time_trend": ("Доля ответов в срок", "On-time share"),
    "speed.overdue": ("Просрочено сейчас (сначала самые давние)", "Overdue now (oldest first)"),
    "speed.overdue.by_executor": ("Просрочено по исполнителям", "Overdue by executor"),
    "speed.bin": ("Рабочих часов", "Working hours"),
    # cases
    "cases.title": ("Обращения", "Cases"),
    "cases.escalated_to_us": ("Только эскалированные нам", "Only escalated to us"),
    "cases.escalated_to_us.help": ("Обращения, которые другие исполнители передали вашей организации.",
                                   "Appeals other executors escalated to your organization."),
    "cases.escalated_mark": ("↗ эскалировано нам", "↗ escalated to us"),
    "cases.not_in_scope": ("Обращения территории «{names}» недоступны для вашей роли: список показывает только "
                           "вашу территорию. Сводные показатели по ней есть на страницах «Обзор» и «Территории».",
                           "The cases of {names} are not available to your role: the list shows your territory only. "
                           "Its summary figures are on the Overview and Territories pages."),
    "cases.search": ("Поиск по тексту или номеру", "Search by text or ID"),
    "cases.sort": ("Сортировка", "Sort"),
    "cases.sort.newest": ("Сначала новые", "Newest first"), "cases.sort.oldest": ("Сначала старые", "Oldest first"),
    "cases.sort.overdue": ("Сначала просроченные", "Most overdue first"),
    "cases.sort.reach": ("По охвату", "By reach"),
    "cases.page": ("Страница", "Page"),
    "cases.found": ("Найдено: {n}", "Found: {n}"),
    "cases.more_than": ("более {n}", "more than {n}"),
    "cases.next": ("Следующие 50 →", "Next 50 →"),
    "cases.first": ("← В начало", "← First page"),
    "cases.open_card": ("Открыть карточку", "Open the card"),
    "cases.card": ("Обращение № {id}", "Appeal #{id}"),
    "cases.not_found": ("Обращение № {id} не найдено.", "Appeal #{id} not found."),
    "cases.back": ("← К списку", "← Back to the list"),
    "cases.timeline": ("Ход работы", "Timeline"),
    "cases.source_link": ("Открыть исходную публикацию", "Open the source post"),
    "card.external_id": ("Внешний номер", "External ID"), "card.source": ("Источник", "Source"),
    "card.author": ("Автор (псевдоним)", "Author (pseudonym)"), "card.received": ("Поступило", "Received"),
    "card.territory": ("Территория", "Territory"), "card.topic": ("Тема", "Topic"),
    "card.executor": ("Исполнитель", "Executor"), "card.status": ("Статус", "Status"),
    "card.due": ("Срок первого ответа", "First response due"), "card.first_response": ("Первый ответ", "First response"),
    "card.closed": ("Закрыто", "Closed"), "card.escalated": ("Эскалировано", "Escalated"),
    "card.feedback": ("Отзыв жителя", "Citizen feedback"), "card.rating": ("Оценка", "Rating"),
    "card.reopened": ("Повторно открывалось", "Reopened"), "card.reach": ("Охват", "Reach"),
    "card.fr_hours": ("До первого ответа", "Until first response"),
    # methodology
    "method.title": ("Методика", "Methodology"),
    "method.intro": ("Все показатели считаются по когорте: обращения, поступившие в выбранный период (по местному времени), в их состоянии на момент выгрузки данных. Сравнение — с предыдущей календарной неделей, месяцем, кварталом или годом, если выбран такой период, иначе с периодом той же длины непосредственно перед выбранным; изменения долей — в процентных пунктах, чисел — в процентах.",
                     "Every figure describes a cohort: appeals received in the selected period (local time), as they stand when the data was read. The comparison period is the previous calendar week, month, quarter or year when one is selected, else the equal-length period right before; shares change in percentage points, counts in per cent."),
    "method.definitions": ("Определения показателей", "Definitions"),
    "method.calendar": ("Рабочее время", "Working hours"),
    "method.calendar.text": ("Пн–пт 9:00–18:00 по местному времени, кроме праздников и перенесённых выходных производственного календаря РФ (библиотека holidays); рабочие субботы по переносу учитываются. Норматив первого ответа — {norm} рабочих часов, для срочных тем — {urgent}.",
                             "Mon–Fri 09:00–18:00 local time, minus the holidays and transferred days off of the Russian production calendar (the holidays library); transferred working Saturdays count. First-response norm: {norm} working hours, {urgent} for urgent topics."),
    "method.calendar.days_off": ("Нерабочие будние дни и рабочие выходные {year} года", "Weekday days off and working weekend days in {year}"),
    "method.score": ("Балл и места", "Score and ranks"),
    "method.score.text": ("Балл (0–100) = среднее из «В срок», «Доля решённых», «Подтверждено жителем», «Удовлетворённость» в процентах, без показателей, посчитанных менее чем по 30 обращениям («мало данных»). Места присваиваются внутри групп сопоставимых территорий или исполнителей и только при 30 и более обращениях. Изменение места — по сравнению с периодом сравнения.",
                          "Score (0–100) = mean of on-time, resolved, confirmed and satisfaction shares in %, leaving out any share computed over fewer than 30 appeals ('too little data'). Ranks are given within peer groups and only with at least 30 appeals. Rank change compares with the comparison period."),
    "method.small": ("Доля, посчитанная менее чем по 30 обращениям, показывается серым с пометкой «мало данных» и не участвует в рейтинге.",
                     "A share computed over fewer than 30 appeals is shown grey, marked 'too little data', and takes no rank."),
    "method.like_for_like": (
        "**Сравнение с прошлым периодом — в равном возрасте.** Доли решённых, закрытых, подтверждённых, "
        "удовлетворённость, эскалации, ответы в срок и время ответа и закрытия растут, пока обращения в работе. "
        "Поэтому прошлый период берётся таким, каким он был в том же возрасте: учитывается только то, что "
        "случилось с его обращениями к моменту «сейчас», сдвинутому назад на длину периода (по записанным "
        "временам ответа, закрытия, эскалации и подтверждения жителем). Оценка жителя учитывается, если "
        "обращение к тому моменту было закрыто: время самой оценки не записывается.",
        "**Comparison with the previous period, at the same age.** Resolved, closed and confirmed shares, "
        "satisfaction, escalations, on-time answers and the times to answer and to close grow while appeals are "
        "being worked on. The previous period is therefore taken as it stood at the same age: only what had "
        "happened to its appeals by \"now\" shifted back by the period's length counts (from the recorded times "
        "of answer, closing, escalation and the citizen's confirmation). A citizen's rating counts when the "
        "appeal had been closed by then: the rating's own time is not recorded."),
    "method.data": ("Данные", "Data"),
    "method.attribution": ("Границы территорий: © участники OpenStreetMap, ODbL.", "Boundaries: © OpenStreetMap contributors, ODbL."),
    "method.working_day": ("рабочий день", "working day"), "method.day_off": ("выходной", "day off"),
}


def set_lang(lang: str) -> None:
    _lang.set(lang if lang in LANGS else "ru")


def get_lang() -> str:
    return _lang.get()


def t(key: str, **kwargs) -> str:
    """The message for `key` in the current language, formatted with kwargs."""
    try:
        ru, en = M[key]
    except KeyError:
        raise KeyError(f"message {key!r} is missing from the catalog") from None
    text = en if _lang.get() == "en" else ru
    return text.format(**kwargs) if kwargs else text


def has(key: str) -> bool:
    """Whether the catalog has `key` (for words stored as codes, e.g. the audit log's actions)."""
    return key in M
