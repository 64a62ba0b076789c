// The director of a school on the hub drafts two network-form agreements
// with a technopark on its own node: one from the JSON the command line
// reads, its term then set in the draft's form, and proposes both. The
// technopark's director, on their node, signs the first and declines the
// second with a reason; the school's director signs the first, which comes
// into force and shows as expiring soon.
export async function run({ setting, signIn, check, text, accessible }) {
  const school = await signIn(setting.school);
  await school.getByRole("link", { name: "Договоры", exact: true }).click();
  await school.waitForURL(/\/agreements$/);
  await accessible(school, "the agreements list, empty");
  check((await text(school)).includes("Договоров с такими условиями нет"), "no agreements yet");

  // A draft from JSON; what is not JSON is refused beside the box.
  await school.getByRole("link", { name: "Новый договор" }).click();
  await school.waitForURL(/\/agreements\/new$/);
  await accessible(school, "the draft's form");
  await school.getByLabel("Содержание договора в JSON").fill("{ не JSON");
  await school.getByRole("button", { name: "Создать черновик" }).click();
  const jsonError = school.locator("#json-error");
  check(await jsonError.isVisible(), "unreadable JSON is refused beside the box");
  check((await jsonError.innerText()).startsWith("Это не содержание договора"), "in Russian");

  const first = JSON.parse(setting.json);
  first.title = "Договор о сетевой форме: «Технология»";
  await school.getByLabel("Содержание договора в JSON").fill(JSON.stringify(first, null, 2));
  await school.getByRole("button", { name: "Создать черновик" }).click();
  await school.waitForURL(/\/agreements\/[0-9a-f-]{36}\?done=drafted$/);
  check((await text(school, ".notice")).includes("Черновик сохранён"), "draft saved");
  const signed = new URL(school.url()).pathname.split("/").pop();

  // Its term set in the form; a section left empty is refused beside it.
  await school.getByRole("link", { name: "Изменить черновик" }).click();
  await school.waitForURL(/\/edit$/);
  await accessible(school, "the draft in its form");
  await school.locator("#valid_from").fill(setting.from);
  await school.locator("#valid_to").fill(setting.to);
  await school.locator("#students-admission").fill("");
  await school.getByRole("button", { name: "Сохранить и направить на подписание" }).click();
  const admission = school.locator("#students-admission-error");
  check(await admission.isVisible(), "an empty admission rule is refused beside the field");
  check(/[а-я]/i.test(await admission.innerText()), `the refusal is in Russian: ${await admission.innerText()}`);
  check((await school.locator("#valid_to").inputValue()) === setting.to, "the form keeps what was typed");
  await school.locator("#students-admission").fill(first.students.admission);
  await school.getByRole("button", { name: "Сохранить и направить на подписание" }).click();
  await school.waitForURL(new RegExp(`/agreements/${signed}\\?done=`));
  check((await text(school, "#agreement-state")).includes("На подписании"), "proposed");
  await accessible(school, "the proposed agreement");

  // The second, from the JSON as given, proposed from its page.
  await school.goto(new URL("/agreements/new", setting.hub).href);
  await school.getByLabel("Содержание договора в JSON").fill(setting.json);
  await school.getByRole("button", { name: "Создать черновик" }).click();
  await school.waitForURL(/\?done=drafted$/);
  const declined = new URL(school.url()).pathname.split("/").pop();
  await school.getByRole("button", { name: "Направить на подписание" }).click();
  await school.waitForURL(/\?done=proposed$/);

  // The technopark's director, on their own node, sees both and signs one.
  const park = await signIn(setting.director);
  await park.goto(new URL("/agreements", setting.park).href);
  await accessible(park, "the technopark's agreements");
  const list = await text(park, "table");
  check(list.includes("«Технология»") && list.includes("«Информатика»"), "both agreements listed on the park's node");
  check(list.includes("хранится на узле другой стороны"), "kept on the hub");
  await park.getByRole("link", { name: "Договор о сетевой форме: «Технология»" }).click();
  await park.waitForURL(new RegExp(`/agreements/${signed}$`));
  await accessible(park, "the agreement to sign, on the park's node");
  const toSign = await text(park);
  check(toSign.includes("Ждём подписи") && toSign.includes("Соколов Андрей Викторович"), "awaiting signatures, signatory named");
  check(toSign.includes("1. Образовательная программа") && toSign.includes("Технология"), "the Article 15 sections");
  await park.getByRole("button", { name: "Подписать" }).click();
  await park.waitForURL(/\?done=signed$/);
  check((await text(park, ".notice")).includes("Договор подписан"), "signed on the park's node");

  // The other: a decline needs its reason.
  await park.goto(new URL(`/agreements/${declined}`, setting.park).href);
  await park.getByRole("button", { name: "Отклонить" }).click();
  check(/\/agreements\//.test(park.url()), "still on the agreement");
  await park.getByLabel("Причина отказа (увидят все стороны)").fill("Лаборатории заняты по вторникам; предлагаем четверг.");
  await park.getByRole("button", { name: "Отклонить" }).click();
  await park.waitForURL(/\?done=declined$/);
  check((await text(park, "#agreement-state")).includes("Отклон"), "declined");

  // The school's director signs too: in force, and expiring soon.
  await school.goto(new URL(`/agreements/${signed}`, setting.hub).href);
  await school.getByRole("button", { name: "Подписать" }).click();
  await school.waitForURL(/\?done=signed$/);
  const state = await text(school, "#agreement-state");
  check(state.includes("Действ"), `in force: ${state}`);
  const page = await text(school);
  check(page.includes("подпись проверена"), "signatures verified");
  check(page.includes("Подписан всеми сторонами"), "the history says so");
  await accessible(school, "the agreement in force");
  await school.goto(new URL("/agreements?expiring=1", setting.hub).href);
  const expiring = await text(school, "table");
  check(expiring.includes("«Технология»") && !expiring.includes("«Информатика»"), "only the one in force expires soon");
  await school.goto(new URL(`/agreements/${signed}/print`, setting.hub).href);
  await accessible(school, "the printable agreement");
  check((await text(school, "body")).includes("5. Срок действия, порядок изменения и прекращения договора"), "printable");
  return { signed, declined };
}
