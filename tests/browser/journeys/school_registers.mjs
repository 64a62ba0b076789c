// A school's deputy director on the hub finds a university's course in the
// network calendar, registers a group, sees it wait and where, shrinks it
// until it fits, then withdraws it; and copies the subscription link.
export async function run({ setting, signIn, check, text, accessible }) {
  // Reloads until `what` shows in `selector` (copies of records made on
  // another node arrive within seconds).
  async function untilShown(page, selector, what) {
    for (let i = 0; i < 50; i++) {
      if ((await page.locator(selector).count()) > 0 && (await text(page, selector)).includes(what)) return;
      await page.waitForTimeout(200);
      await page.reload();
    }
    throw new Error(`${selector} never showed ${what}: ${await text(page)}`);
  }

  const page = await signIn(setting.link);
  await accessible(page, "the calendar");

  // Search folds ё: «елка» finds «Ёлка».
  await page.getByLabel("Поиск").fill("елка");
  await page.getByRole("button", { name: "Показать" }).click();
  await page.getByRole("link", { name: "Список" }).click();
  check((await text(page)).includes("Новогодняя Ёлка в ТУСУР"), "«елка» should find «Ёлка»");
  check(!(await text(page)).includes("Олимпиадная физика"), "the search should leave the course out");

  // The course, for grade 9, in the list.
  await page.getByLabel("Поиск").fill("");
  await page.getByLabel("Класс").selectOption({ label: "9 класс" });
  await page.getByRole("button", { name: "Показать" }).click();
  check((await text(page)).includes("Олимпиадная физика"), "the course is for grade 9");
  const subscription = await page.getByLabel("Ссылка для подписки").inputValue();
  check(subscription.startsWith("webcal://") && subscription.includes("grade=9"),
    `the subscription link keeps the filter: ${subscription}`);

  await page.getByRole("link", { name: "Олимпиадная физика" }).first().click();
  await page.waitForURL(/\/activities\//);
  await accessible(page, "the activity");
  check((await text(page)).includes("ТУСУР"), "the publisher is named");
  check((await text(page)).includes("Подготовка к олимпиаде"), "the kind is named in Russian");

  // 10 do not fit in the 5 seats left: the group waits, first in line.
  await page.getByLabel("Организация").selectOption({ label: "Гимназия №24" });
  await page.getByLabel("На какое занятие").selectOption({ index: 0 });
  await page.getByLabel("с", { exact: true }).fill("9");
  await page.getByLabel("по", { exact: true }).fill("10");
  await page.getByLabel("Человек", { exact: true }).fill("10");
  await page.getByLabel("Ответственный педагог").fill("");
  await page.getByRole("button", { name: "Записать", exact: true }).click();
  // The API names the field it refuses; the console shows it beside it, in Russian.
  const teacherError = page.locator("#teacher-error");
  check(await teacherError.isVisible(), "a missing teacher is shown beside the field");
  check(/[а-я]/i.test(await teacherError.innerText()), "the error is in Russian");
  await page.getByLabel("Ответственный педагог").fill("Иванова М. П.");
  await page.getByRole("button", { name: "Записать", exact: true }).click();
  await page.waitForURL(/place=/);
  const waiting = await text(page, ".notice");
  check(waiting.includes("листе ожидания") && waiting.includes("место 1"), `waiting, first: ${waiting}`);
  // The registration is the university's record: the hub lists it once
  // its copy arrives.
  await untilShown(page, "#registrations", "В листе ожидания");
  const states = ["waitlisted"];

  // Five fit: the group is confirmed.
  await page.locator("#registrations input[name=headcount]").fill("5");
  await page.getByRole("button", { name: "Изменить" }).click();
  await page.waitForURL(/place=0/);
  const confirmed = await text(page, ".notice");
  check(confirmed.includes("подтверждена"), `confirmed once it fits: ${confirmed}`);
  states.push("confirmed");

  await untilShown(page, "#registrations", "Подтверждена");
  await page.getByRole("button", { name: "Отозвать" }).click();
  await page.waitForURL(/\/activities\/[^?]+$/);
  await untilShown(page, "#registrations", "Отозвана");
  states.push("withdrawn");

  // The school's director reads the audit trail: the deputy's writes, made
  // in the console and sent on to the university, newest first.
  const director = await signIn(setting.director);
  await director.getByRole("link", { name: "Журнал" }).click();
  await director.waitForURL(/\/audit/);
  await accessible(director, "the audit trail");
  const rows = director.locator("table.audit tbody tr");
  const trail = [];
  for (let i = 0; i < await rows.count(); i++) {
    const row = (await rows.nth(i).innerText()).replace(/\s+/g, " ");
    if (row.includes("Завуч гимназии")) trail.push(row);
  }
  check(trail.length === 3, `register, change, withdraw: ${trail.join(" | ")}`);
  check(trail[0].includes("Отзыв записи") && trail[1].includes("Число участников")
    && trail[2].includes("Запись группы"), `newest first: ${trail.join(" | ")}`);
  for (const row of trail) {
    check(row.includes("Завуч гимназии") && row.includes("Консоль") && row.includes("передано на узел")
      && row.includes("127.0.0.1"), `who, how, where to and from where: ${row}`);
  }
  // One person's actions, by their name.
  await director.getByRole("link", { name: "Завуч гимназии" }).first().click();
  await director.waitForURL(/person=/);
  check((await text(director)).includes("Действия: Завуч гимназии"), "the person's actions are titled by name");
  // A span that ends before it starts is refused beside the field, in Russian.
  await director.getByLabel("С", { exact: true }).fill("2026-12-07");
  await director.getByLabel("По", { exact: true }).fill("2026-12-01");
  await director.getByRole("button", { name: "Показать" }).click();
  const untilError = director.locator("#until-error");
  check(await untilError.isVisible(), "the bad span is shown beside «По»");
  check((await untilError.innerText()).includes("позже"), `in Russian: ${await untilError.innerText()}`);
  return { states, trail };
}
