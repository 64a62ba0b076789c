// A school's deputy on the hub books the technopark's lab: finds it by its
// equipment and room, reads its week, asks for every Tuesday and Thursday
// of a month but a holiday, is told beside the field that the lab holds
// fewer pupils, meets a Thursday the technopark holds and sends
// the request again without it. The technopark's admin, on the
// technopark's node, approves it with a comment and rejects another
// school's request; the deputy then sees the decision and cancels the last
// lesson.
export async function run({ setting, signIn, check, text, accessible, weight }) {
  const SHOTS = process.env.EDUFED_SHOTS;
  // At 360 px the page does not scroll sideways (wide tables scroll in
  // their own box); with EDUFED_SHOTS set, screenshots at 1280 and 360 px.
  async function narrow(page, name) {
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}-1280.png`, fullPage: true });
    const size = page.viewportSize();
    await page.setViewportSize({ width: 360, height: 780 });
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}-360.png`, fullPage: true });
    await page.setViewportSize(size);
    check(wide <= 360, `${name} is ${wide} px wide at 360 px`);
  }
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

  // 1. The deputy finds the lab among the network's resources.
  const school = await signIn(setting.school);
  await school.getByRole("link", { name: "Ресурсы" }).click();
  await school.waitForURL(/\/resources$/);
  await accessible(school, "the resources");
  await school.getByLabel("Оснащение").fill("3D-принтеры");
  await school.getByLabel("Мест не меньше").fill("12");
  await school.getByRole("button", { name: "Показать" }).click();
  await school.waitForURL(/capacity=12/);
  const listed = await text(school, "table.resources");
  check(listed.includes("IT-квантум") && !listed.includes("Переговорная"), `found by equipment and room: ${listed}`);
  for (const fact of ["Кванториум", "14", "пн–пт 09:00–18:00", "С согласованием"]) {
    check(listed.includes(fact), `the list shows ${fact}: ${listed}`);
  }
  await accessible(school, "the resources found");
  await narrow(school, "resources");

  // 2. Its week: the Thursday the technopark holds is busy.
  await school.getByRole("link", { name: "IT-квантум" }).click();
  await school.waitForURL(/\/resources\/[^?]+$/);
  await accessible(school, "the lab");
  const taken = school.locator(`td[data-slot="${setting.takenSlot}"]`);
  for (let i = 0; i < 8 && (await taken.count()) === 0; i++) {
    const next = school.getByRole("link", { name: "Следующая неделя" });
    const to = new URL(await next.getAttribute("href"), school.url());
    await next.click();
    await school.waitForURL((url) => url.search === to.search);
  }
  check((await taken.count()) === 1, `the week of ${setting.takenSlot} is reachable`);
  check((await taken.innerText()).includes("занято"), `the held Thursday is busy: ${await taken.innerText()}`);
  check((await taken.innerText()).includes("15:00–16:00"), "with its time");
  await accessible(school, "the lab's week");
  const bytes = await weight(school, school.url());
  check(bytes < 100_000, `the lab's page weighs ${bytes} bytes`);
  await narrow(school, "week");

  // 3. Every Tuesday and Thursday but the holiday.
  await school.getByLabel("От организации").selectOption({ label: "Гимназия №24" });
  await school.getByLabel("Дата (для серии — с какого дня)").fill(setting.from);
  await school.getByLabel("Начало").fill("14:00");
  await school.getByLabel("Конец").fill("15:30");
  await school.getByLabel("Каждую неделю").check();
  await school.getByLabel("вторник").check();
  await school.getByLabel("четверг").check();
  await school.getByLabel("Последний день серии").fill(setting.until);
  await school.getByLabel("Кроме дат (каникулы, праздники)").fill(setting.holiday);
  await school.getByLabel("Цель (что будет на занятии)").fill("Технология, 7 класс");
  // More pupils than the lab holds: the technopark's refusal beside the field.
  await school.getByLabel("Человек", { exact: true }).fill("20");
  await school.getByRole("button", { name: "Отправить заявку" }).click();
  await school.locator("#headcount-error").waitFor();
  const tooMany = await text(school, "#headcount-error");
  check(tooMany.includes("Вместимость") || tooMany.includes("вмещает"), `the capacity refusal beside the field: ${tooMany}`);
  check((await school.getByLabel("Человек", { exact: true }).getAttribute("aria-invalid")) === "true", "the field is marked");
  check((await school.getByLabel("четверг").isChecked()) && (await school.getByLabel("Последний день серии").inputValue()) === setting.until, "the form keeps what was typed");
  await accessible(school, "the refusal");
  await narrow(school, "refusal");
  await school.getByLabel("Человек", { exact: true }).fill("12");
  await school.getByRole("button", { name: "Отправить заявку" }).click();

  // 4. The Thursday collides: shown, and sent again without it.
  const conflicts = school.locator(".conflicts");
  await conflicts.waitFor();
  const said = await text(school, ".conflicts");
  check(said.includes("Время уже занято"), `the conflict is named: ${said}`);
  check((await school.locator(".conflicts li").count()) === 1, `one lesson collides: ${said}`);
  check(said.includes(`чт, ${setting.takenDay} `) && said.includes("14:00–15:30"), `the colliding lesson: ${said}`);
  await accessible(school, "the conflict");
  await narrow(school, "conflict");
  await school.getByRole("button", { name: "Отправить без занятых дат" }).click();
  await school.waitForURL(/\/bookings\/[^/?]+\?made=1/);
  const booking = new URL(school.url()).pathname.split("/").pop();
  const made = await text(school, ".notice");
  check(made.includes("без занятых дат") && made.includes(`${setting.takenDay}`), `sent without the Thursday: ${made}`);
  const rows = school.locator("table.lessons tbody tr");
  check((await rows.count()) === 6, `six lessons: ${await text(school)}`);
  check((await text(school, "table.lessons")).split("Ждёт решения").length - 1 === 6, "each waits for the technopark");
  await accessible(school, "the request");
  await narrow(school, "request");

  // The school's own requests, as the hub hears of them.
  await school.getByRole("link", { name: "К заявкам" }).click();
  await untilShown(school, "#outgoing + .scroll", "Ждёт решения: 6");
  await accessible(school, "the school's requests");
  await narrow(school, "outgoing");

  // 5. The technopark's admin decides on the technopark's node.
  const park = await signIn(setting.park);
  await park.goto(new URL("/bookings", setting.park).href);
  await accessible(park, "the technopark's inbox");
  await narrow(park, "inbox");
  const gymnasium = park.locator("article.request", { hasText: "Гимназия №24" });
  const lyceum = park.locator("article.request", { hasText: "Лицей №7" });
  check((await gymnasium.count()) === 1 && (await lyceum.count()) === 1, `both requests wait: ${await text(park)}`);
  check((await text(park, "article.request >> nth=0")).includes("IT-квантум"), "the resource is named");
  await gymnasium.getByLabel("Комментарий для заявителя").fill(setting.comment);
  await gymnasium.getByRole("button", { name: "Подтвердить" }).click();
  await park.waitForURL(/done=approved/);
  check((await text(park, ".notice")).includes("подтверждена"), "approved");
  await lyceum.getByLabel("Комментарий для заявителя").fill(setting.refusal);
  await lyceum.getByRole("button", { name: "Отклонить" }).click();
  await park.waitForURL(/done=rejected/);
  check((await text(park)).includes("Новых заявок нет"), `nothing left to decide: ${await text(park)}`);
  await accessible(park, "the inbox decided");

  // 6. The school sees the decision and cancels the last lesson.
  await school.goto(new URL(`/bookings/${booking}`, setting.school).href);
  const lessons = await text(school, "table.lessons");
  check(lessons.split("Подтверждено").length - 1 === 6, `approved: ${lessons}`);
  check(lessons.includes(setting.comment), "with the technopark's comment");
  await school.locator("table.lessons tbody tr").last().getByRole("button", { name: /Отменить/ }).click();
  await school.waitForURL(/done=cancelled/);
  const last = await text(school, "table.lessons tbody tr >> nth=5");
  check(last.includes("Отменено"), `the last lesson cancelled: ${last}`);
  await accessible(school, "the booking after cancelling");
  await narrow(school, "cancelled");
  return { booking };
}
