// A lyceum's coordinator starts a mentoring programme for young teachers
// with a gymnasium as partner, forms a pair across the two schools (after
// the console refuses a pupil in a teachers' programme, beside the field),
// starts it, schedules its meetings, assesses it at a checkpoint and
// records its outcome.
export async function run({ setting, signIn, check, text, accessible }) {
  const page = await signIn(setting.coordinator);
  await page.getByRole("link", { name: "Наставничество" }).click();
  await page.waitForURL(/\/mentoring$/);
  await accessible(page, "the mentoring programmes");
  check((await text(page)).includes("пока не участвуют"), "no programme yet");

  // Without a title the API names the field; the console shows it there.
  await page.getByLabel("Форма наставничества").selectOption({ label: "Молодой учитель – опытный учитель" });
  await page.getByLabel("Партнёры").selectOption({ label: "Гимназия №24" });
  await page.getByLabel("Начало").fill("2025-09-01");
  await page.getByLabel("Окончание").fill("2026-05-31");
  await page.getByLabel("Критерий 1").fill("Профессиональная успешность");
  await page.getByLabel("Критерий 2").fill("Удовлетворённость наставляемого");
  await page.getByRole("button", { name: "Создать программу" }).click();
  const titleError = page.locator("#title-error");
  check(await titleError.isVisible(), "a missing title is shown beside the field");
  check(/[а-я]/i.test(await titleError.innerText()), "the error is in Russian");
  await accessible(page, "the programme form with an error");

  await page.getByLabel("Название программы").fill("Школа молодого учителя");
  await page.getByLabel("Партнёры").selectOption({ label: "Гимназия №24" });
  await page.getByRole("button", { name: "Создать программу" }).click();
  await page.waitForURL(/\/mentoring\/[0-9a-f-]{36}$/);
  await accessible(page, "the programme");
  const programme = page.url().split("/").pop();
  check((await text(page)).includes("Молодой учитель – опытный учитель"), "the form is named in Russian");
  check((await text(page)).includes("с 1 сентября 2025 по 31 мая 2026"), "the term reads as dates");

  // A pupil has no place in a teachers' programme: refused beside the field.
  await page.getByLabel("ФИО", { exact: true }).fill("Смирнова Ольга Петровна");
  await page.getByLabel("Должность").first().fill("учитель математики");
  await page.getByLabel("Кто наставляемый").selectOption({ label: "Ученик по коду школы" });
  await page.getByLabel("Код ученика").fill("P-0042");
  await page.getByLabel("Начало работы пары").fill("2025-09-15");
  await page.getByRole("button", { name: "Добавить пару" }).click();
  const kindError = page.locator("#mentee-kind-error");
  check(await kindError.isVisible(), "a pupil in a teachers' programme is refused beside the field");
  check(/[а-я]/i.test(await kindError.innerText()), "in Russian");

  await page.getByLabel("ФИО", { exact: true }).fill("Смирнова Ольга Петровна");
  await page.getByLabel("Должность").first().fill("учитель математики");
  await page.getByLabel("Кто наставляемый").selectOption({ label: "Коллега (педагог, студент)" });
  await page.getByLabel("Организация").nth(1).selectOption({ label: "Гимназия №24" });
  await page.getByLabel("ФИО коллеги").fill("Ким Анна Сергеевна");
  await page.getByLabel("Должность").nth(1).fill("молодой учитель");
  await page.getByLabel("Код ученика").fill("");
  await page.getByLabel("Начало работы пары").fill("2025-09-15");
  await page.getByRole("button", { name: "Добавить пару" }).click();
  await page.waitForURL(/\/mentoring\/pairs\//);
  await accessible(page, "the pair");
  const pair = page.url().split("/").pop();
  check((await text(page)).includes("Запланирована"), "a new pair is planned");

  await page.getByLabel("Дата первой встречи").fill("2025-09-20");
  await page.getByRole("button", { name: "Начать", exact: true }).click();
  await page.waitForURL(/done=started/);
  check((await text(page)).includes("Работает"), "the pair is working");

  // The pair's meetings: four weekly ones, after an end before the start
  // that the API refuses and the console shows beside the end.
  check((await text(page)).includes("Встреч пока не назначено"), "no meeting yet");
  await page.getByLabel("Тема встречи").fill("Разбор открытого урока");
  await page.locator("#meeting-date").fill("2025-10-07");
  await page.getByLabel("Начало", { exact: true }).fill("15:00");
  await page.getByLabel("Окончание", { exact: true }).fill("14:00");
  await page.getByLabel("Сколько встреч").fill("4");
  await page.getByRole("button", { name: "Назначить" }).click();
  const endError = page.locator("#meeting-end-error");
  check(await endError.isVisible(), "an end before the start is refused beside the end");
  check(/[а-я]/i.test(await endError.innerText()), `in Russian: ${await endError.innerText()}`);
  check((await page.getByLabel("Тема встречи").inputValue()) === "Разбор открытого урока",
    "the form keeps what was typed");
  await page.getByLabel("Окончание", { exact: true }).fill("16:00");
  await page.getByLabel("Где").fill("каб. 214");
  await page.getByRole("button", { name: "Назначить" }).click();
  await page.waitForURL(/done=scheduled/);
  await accessible(page, "the pair with its meetings");
  const meetings = await page.locator(".meetings li").allInnerTexts();
  check(meetings.length === 4, `four meetings are listed: ${meetings.join(" | ")}`);
  check(meetings[0].includes("7 окт 2025, 15:00"), `in local time: ${meetings[0]}`);

  await page.getByLabel("Контрольная точка").fill("I полугодие 2025/26");
  await page.locator("#assess-on").fill("2025-12-20");
  await page.getByLabel("Профессиональная успешность (1–5)").fill("4");
  // A criterion left without a score: the API names the scores, the
  // console says which criterion beside them.
  await page.getByRole("button", { name: "Сохранить оценку" }).click();
  const scoresError = page.locator("#scores-error");
  check(await scoresError.isVisible(), "a missing score is shown beside the scores");
  check((await scoresError.innerText()).includes("Удовлетворённость наставляемого"),
    `the missing criterion is named: ${await scoresError.innerText()}`);
  await page.getByLabel("Контрольная точка").fill("I полугодие 2025/26");
  await page.locator("#assess-on").fill("2025-12-20");
  await page.getByLabel("Профессиональная успешность (1–5)").fill("4");
  await page.getByLabel("Удовлетворённость наставляемого (1–5)").fill("5");
  await page.getByRole("button", { name: "Сохранить оценку" }).click();
  await page.waitForURL(/done=assessed/);
  check((await text(page, ".checkpoints")).includes("4 / 5"), "the checkpoint's scores are listed");

  await page.locator("#complete-on").fill("2026-05-25");
  await page.getByLabel("Итог", { exact: true }).selectOption({ label: "Цель достигнута" });
  await page.getByLabel("Комментарий к итогу").fill("Открытый урок на фестивале молодых специалистов");
  await page.getByRole("button", { name: "Завершить", exact: true }).click();
  await page.waitForURL(/done=completed/);
  await accessible(page, "the completed pair");
  check((await text(page)).includes("Цель достигнута"), "the outcome is shown");

  await page.getByRole("link", { name: "Школа молодого учителя" }).click();
  check((await text(page, "#register ~ .scroll")).includes("Ким Анна Сергеевна"), "the register lists the pair");

  // The school states its teachers for the year; a part larger than the
  // whole is refused beside its field.
  await page.getByRole("link", { name: "Наставничество" }).first().click();
  await page.getByRole("link", { name: "Педагоги и их профессиональный рост" }).click();
  await page.waitForURL(/\/mentoring\/teachers$/);
  await accessible(page, "the teachers' figures");
  await page.locator("#school_year").fill("2025/26");
  await page.getByLabel("Педагогов").fill("60");
  await page.getByLabel("Молодых специалистов").fill("70");
  await page.getByRole("button", { name: "Сохранить" }).click();
  const youngError = page.locator("#young_teachers-error");
  check(await youngError.isVisible(), "more young teachers than teachers is refused beside the field");
  check(/[а-я]/i.test(await youngError.innerText()), "in Russian");
  await page.getByLabel("Молодых специалистов").fill("4");
  await page.getByLabel("Прошли КПК").fill("30");
  await page.getByRole("button", { name: "Сохранить" }).click();
  await page.waitForURL(/done=stated/);
  check((await text(page, ".teachers")).includes("2025/26"), "the stated year is listed");

  // Her own growth, by person once she agrees: a course without its hours
  // is refused beside the hours; withdrawing erases what she recorded.
  await page.goto(page.url().replace(/\/mentoring\/teachers.*$/, "/mentoring/growth"));
  await accessible(page, "one's own growth before agreeing");
  check((await text(page)).includes("не давали согласия"), "nothing is recorded before she agrees");
  await page.getByRole("button", { name: "Согласен(на) на персональный учёт" }).click();
  await page.waitForURL(/done=agreed/);
  await page.getByLabel("Что это").selectOption({ label: "Курсы повышения квалификации (КПК)" });
  await page.getByLabel("Название").fill("Формирующее оценивание");
  await page.getByLabel("Дата").fill("2025-11-20");
  await page.getByRole("button", { name: "Сохранить" }).click();
  const hoursError = page.locator("[id$=-error][id^=hours-]");
  check(await hoursError.isVisible(), "a course without hours is refused beside the hours");
  check(/[а-я]/i.test(await hoursError.innerText()), `in Russian: ${await hoursError.innerText()}`);
  check((await page.getByLabel("Название").inputValue()) === "Формирующее оценивание", "the form keeps the title");
  await page.getByLabel("Часов").fill("72");
  await page.getByRole("button", { name: "Сохранить" }).click();
  await page.waitForURL(/done=recorded/);
  await accessible(page, "one's own growth with a record");
  check((await text(page, ".records")).includes("72 часа"), "the course is listed with its hours");
  check((await text(page, ".everyone")).includes("Соколова Ирина Викторовна"),
    "the coordinator sees the records of those who agreed, by name");
  await page.getByRole("button", { name: "Отозвать согласие и удалить мои записи" }).click();
  await page.waitForURL(/done=withdrawn/);
  check((await text(page)).includes("не давали согласия") && !(await text(page)).includes("Формирующее оценивание"),
    "withdrawing erases her records");

  // The report's shares: the lyceum mentors the gymnasium's young teacher,
  // none of its own four; half its teachers completed a КПК.
  await page.goto(page.url().replace(/\/mentoring\/growth.*$/, "/reports/mentoring?from=2025-09-01&to=2026-05-31"));
  await accessible(page, "the mentoring report");
  const teachers = await text(page, "#teachers");
  check(teachers.includes("60 4 0 (0 %) 30 (50 %)"), `the shares: ${teachers}`);
  return { programme, pair };
}
