// A college's coordinator prepares a professional trial (after the
// console shows a missing content beside its field), submits it; the
// methodical centre returns it (a return without a comment is refused
// beside the comment), the college revises and resubmits it, the centre
// approves it. A school's coordinator composes a route from the network's
// offerings (a child's name in the title is refused beside it), assigns it
// to a cohort by code (a surname as a code is refused beside it), enrols
// it, marks an item attended and states the leavers' outcome.
export async function run({ setting, signIn, check, text, accessible }) {
  const hub = new URL(setting.college).origin;
  const college = await signIn(setting.college);
  await college.getByRole("link", { name: "Пробы и маршруты" }).click();
  await college.waitForURL(/\/trials$/);
  await accessible(college, "the trial bank");
  await college.getByLabel("Профессия", { exact: true }).fill("Повар-кондитер");
  await college.getByLabel("Часов", { exact: true }).fill("12");
  await college.getByLabel("Недель", { exact: true }).fill("3");
  await college.getByLabel("Мест на занятии", { exact: true }).fill("12");
  await college.getByLabel("С класса").fill("7");
  await college.getByLabel("По класс").fill("8");
  await college.getByLabel("Ответственный", { exact: true }).fill("Мастер производственного обучения");
  await college.getByRole("button", { name: "Сохранить черновик" }).click();
  const contentError = college.locator("#content-error");
  check(await contentError.isVisible(), "a missing content is shown beside the field");
  check(/[а-я]/i.test(await contentError.innerText()), "the error is in Russian");
  check((await college.getByLabel("Профессия", { exact: true }).inputValue()) === "Повар-кондитер",
    "the form keeps what was typed");
  await accessible(college, "the trial form with an error");
  await college.getByLabel("Содержание по занятиям").fill("1. Знакомство с цехом.\n2. Практическое задание.");
  await college.getByRole("button", { name: "Сохранить черновик" }).click();
  await college.waitForURL(/\/trials\/[0-9a-f-]{36}\?done=created$/);
  const trial = new URL(college.url()).pathname.split("/").pop();
  check((await text(college)).includes("Черновик"), "a new programme is a draft");
  await college.getByRole("button", { name: "Отправить на рассмотрение" }).click();
  await college.waitForURL(/done=submitted/);
  await accessible(college, "a submitted trial");

  const centre = await signIn(setting.reviewer);
  await centre.goto(new URL(`/trials/${trial}`, hub).href);
  check((await text(centre)).includes("На рассмотрении"), "the centre sees it waiting");
  await centre.getByLabel("Решение", { exact: true }).selectOption({ label: "Вернуть на доработку" });
  await centre.getByRole("button", { name: "Принять решение" }).click();
  const commentError = centre.locator("#comment-error");
  check(await commentError.isVisible(), "a return without a comment is refused beside it");
  check(/[а-я]/i.test(await commentError.innerText()), "in Russian");
  await centre.getByLabel("Решение", { exact: true }).selectOption({ label: "Вернуть на доработку" });
  await centre.getByLabel("Комментарий").fill("Добавьте требования безопасности");
  await centre.getByRole("button", { name: "Принять решение" }).click();
  await centre.waitForURL(/done=reviewed/);
  check((await text(centre)).includes("возвращена на доработку"), "the review is listed");

  await college.goto(new URL(`/trials/${trial}`, hub).href);
  check((await text(college)).includes("Добавьте требования безопасности"), "the host reads the comment");
  await college.getByLabel("Требования безопасности").fill("Инструктаж; халат и колпак выдаются.");
  await college.getByRole("button", { name: "Сохранить программу" }).click();
  await college.waitForURL(/done=revised/);
  await college.getByRole("button", { name: "Отправить на рассмотрение" }).click();
  await college.waitForURL(/done=submitted/);
  await centre.goto(new URL(`/trials/${trial}`, hub).href);
  await centre.getByLabel("Решение", { exact: true }).selectOption({ label: "Одобрить" });
  await centre.getByRole("button", { name: "Принять решение" }).click();
  await centre.waitForURL(/done=reviewed/);
  check((await text(centre)).includes("В банке проб"), "approved into the bank");

  const school = await signIn(setting.school);
  await school.goto(new URL("/trials?grade=7", hub).href);
  check((await text(school)).includes("Повар-кондитер"), "the school finds it in the bank");
  await school.getByRole("link", { name: "Образовательные маршруты" }).click();
  await school.waitForURL(/\/routes$/);
  await accessible(school, "the routes");
  await school.getByLabel("Название", { exact: true }).fill("Маршрут Маши Петровой");
  await school.getByLabel("Профиль", { exact: true }).fill("инженерный");
  await school.getByLabel("Класс", { exact: true }).fill("10");
  await school.getByLabel("Учебный год", { exact: true }).fill(setting.year);
  await school.locator("#item-title-0").fill("Курс робототехники");
  await school.locator("#activity-0").selectOption({ index: 1 });
  await school.getByRole("button", { name: "Сохранить шаблон" }).click();
  const titleError = school.locator("#title-error");
  check(await titleError.isVisible(), "a child's name in the title is refused beside it");
  check(/[а-я]/i.test(await titleError.innerText()), "in Russian");
  await accessible(school, "the route form with an error");
  await school.getByLabel("Название", { exact: true }).fill("Инженерный профиль, 10 класс");
  await school.getByRole("button", { name: "Сохранить шаблон" }).click();
  await school.waitForURL(/\/routes\/templates\/[0-9a-f-]{36}$/);
  await accessible(school, "a route template");

  await school.getByLabel("Код группы").fill("Petrov");
  await school.getByLabel("Учащихся в группе").fill("14");
  await school.getByLabel("Ответственный педагог").fill("Классный руководитель 10 «И»");
  await school.getByRole("button", { name: "Назначить", exact: true }).click();
  const codeError = school.locator("#code-error");
  check(await codeError.isVisible(), "a surname as a code is refused beside it");
  check((await school.getByLabel("Учащихся в группе").inputValue()) === "14", "the form keeps the count");
  await school.getByLabel("Код группы").fill("10И-2026");
  await school.getByRole("button", { name: "Назначить", exact: true }).click();
  await school.waitForURL(/\/routes\/[0-9a-f-]{36}\?done=assigned$/);
  const route = new URL(school.url()).pathname.split("/").pop();
  check((await text(school)).includes("Запланирован"), "the item is planned");
  await school.getByRole("button", { name: "Записать группу на занятия" }).click();
  await school.waitForURL(/done=enrolled/);
  check((await text(school)).includes("Записаны"), "the cohort is registered");
  await accessible(school, "an enrolled route");

  await school.getByLabel("Присутствовали").fill("13");
  await school.getByLabel("Результат").fill("собрали манипулятор");
  await school.getByRole("button", { name: "Отметить" }).click();
  await school.waitForURL(/done=followed/);
  check((await text(school)).includes("собрали манипулятор"), "the result is shown");
  await school.getByLabel("Выбранные профили").fill("инженерный = 12\nестественно-научный = 2");
  await school.getByLabel("Выпускников", { exact: true }).fill("14");
  await school.getByLabel("Продолжают по профилю").fill("12");
  await school.getByRole("button", { name: "Завершить маршрут" }).click();
  await school.waitForURL(/done=concluded/);
  check((await text(school)).includes("Профиль «инженерный»: 12"), "the outcome is listed");

  // An olympiad's stage at two sites at once, published from the form; a
  // site without a place is refused beside the venues.
  await college.goto(new URL("/activities/new", hub).href);
  await college.getByLabel("Вид", { exact: true }).selectOption({ label: "Олимпиада" });
  await college.getByLabel("Название", { exact: true }).fill("Олимпиада «Звезда», отборочный этап");
  await college.getByLabel("с", { exact: true }).fill("7");
  await college.getByLabel("по", { exact: true }).fill("11");
  await college.getByLabel(/Площадки/).fill("Колледж, актовый зал; 30\n; 20");
  await college.getByLabel("Дата (первого занятия)").fill("2027-10-05");
  await college.getByLabel("Начало", { exact: true }).fill("10:00");
  await college.getByLabel("Окончание", { exact: true }).fill("14:00");
  await college.getByRole("button", { name: "Опубликовать", exact: true }).click();
  const venuesError = college.locator("#venues-error");
  check(await venuesError.isVisible(), "a site without a place is refused beside the venues");
  await college.getByLabel(/Площадки/).fill("Колледж, актовый зал; 30\nСОШ №21, кабинеты 201–204; 20");
  await college.getByRole("button", { name: "Опубликовать", exact: true }).click();
  await college.waitForURL(/\/activities\/[0-9a-f-]{36}$/);
  const stage = await text(college);
  check(stage.includes("Площадки проведения") && stage.includes("СОШ №21, кабинеты 201–204"), "the sites are listed");
  check(stage.includes("50 мест"), "the seats of the sites together");
  await accessible(college, "an activity held at two sites");
  return { trial, route };
}
