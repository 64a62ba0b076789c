// A university's coordinator publishes an olympiad-prep course for grades
// 9–11, twice a week from October to December, leaving out a holiday, with
// the recurrence picker; sees the cohorts registered and waiting; records
// a cohort's results.
export async function run({ setting, signIn, check, text, accessible, pause }) {
  const page = await signIn(setting.link);
  await page.getByRole("link", { name: "Опубликовать мероприятие" }).click();
  await page.waitForURL(/\/activities\/new/);
  await accessible(page, "the publishing form");

  await page.getByLabel("Вид", { exact: true }).selectOption({ label: "Подготовка к олимпиаде" });
  await page.getByLabel("Направление").selectOption({ label: "Дистанционное обучение и одарённые дети" });
  await page.getByLabel("с", { exact: true }).fill("9");
  await page.getByLabel("по", { exact: true }).fill("11");
  await page.getByLabel("Мест на занятие (0 — без ограничения)").fill("20");
  await page.getByLabel("Дата (первого занятия)").fill("2027-10-05");
  await page.getByLabel("Начало", { exact: true }).fill("15:00");
  await page.getByLabel("Окончание", { exact: true }).fill("16:30");
  await page.getByLabel("Повторять по дням недели").check();
  await page.getByLabel("вторник").check();
  await page.getByLabel("четверг").check();
  await page.getByLabel("До (последний день)").fill("2027-12-23");
  await page.getByLabel(/Пропустить даты/).fill("04.11.2027");
  // No title: the API refuses and the console says so beside the field.
  await page.getByRole("button", { name: "Опубликовать", exact: true }).click();
  const titleError = page.locator("#title-error");
  check(await titleError.isVisible(), "a missing title is shown beside the field");
  check(/[а-я]/i.test(await titleError.innerText()), `the error is in Russian: ${await titleError.innerText()}`);
  check((await page.getByLabel("вторник").isChecked()) && (await page.getByLabel(/Пропустить даты/).inputValue()) === "04.11.2027",
    "the form keeps what was entered");

  await page.getByLabel("Название", { exact: true }).fill("Олимпиадная математика");
  await page.getByRole("button", { name: "Опубликовать", exact: true }).click();
  await page.waitForURL(/\/activities\/[0-9a-f-]{36}$/);
  await accessible(page, "the published course");
  const body = await text(page);
  check(body.includes("Подготовка к олимпиаде") && body.includes("9–11 классы"), "kind and grades shown");
  check(body.includes("вт, 5 октября 2027, 15:00") && body.includes("чт, 23 декабря 2027, 15:00"), "first and last lessons, local time");
  check(!body.includes("4 ноября 2027"), "the holiday is left out");
  const rows = await page.locator("table").first().locator("tbody tr").count();
  check(rows === 23, `23 lessons, got ${rows}`);
  const activity = page.url().split("/").pop();

  await pause("published", { activity });
  await page.reload();
  const registrations = await text(page, "#registrations");
  check(registrations.includes("Гимназия №24") && registrations.includes("Подтверждена"), "the confirmed cohort");
  check(registrations.includes("Лицей №7") && registrations.includes("В листе ожидания, место 1"), "the waiting cohort and its place");

  check(!registrations.includes("Внести итоги"), "no results before the course begins");

  // Once it has begun (the node's clock moves; the session, idle since,
  // has ended: a new link signs in again), attendance is recorded; an
  // olympiad-prep course has no winners.
  const { link } = await pause("begun");
  const later = await signIn(link);
  await later.goto(page.url().split("?")[0]);
  const row = later.locator("#registrations tbody tr", { hasText: "Гимназия №24" });
  await row.getByText("Внести итоги").click();
  check((await row.getByLabel("Победители").count()) === 0, "no winners for a course");
  await row.getByLabel("Пришли").fill("14");
  await row.getByRole("button", { name: "Сохранить" }).click();
  await later.waitForURL(/recorded=1/);
  check((await text(later, ".notice")).includes("Итоги сохранены"), "results saved");
  check((await text(later, "#registrations")).includes("пришли 14"), "results shown");
  await accessible(later, "the course with its cohorts");
  return { activity };
}
