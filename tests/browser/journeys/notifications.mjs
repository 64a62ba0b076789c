// A school's deputy director chooses what edufed tells them: only the news
// their role brings (no agreements, which the director signs), reminders
// in the daily digest. Then, from a message's link and without signing in,
// they turn one kind of news off.
export async function run({ setting, signIn, newPage, check, text, accessible }) {
  const deputy = await signIn(setting.deputy);
  await deputy.goto(new URL("/account", setting.node).href);
  await deputy.getByRole("link", { name: "Настроить уведомления" }).click();
  await deputy.waitForURL(/\/account\/notifications$/);
  await accessible(deputy, "the notification settings");
  const page = await text(deputy);
  check(page.includes(`Письма приходят на ${setting.email}`), "says where the mail goes");
  check(page.includes("Напоминание о занятии"), "reminders are offered");
  check(!page.includes("Соглашение ждёт подписи"), "agreements are the director's, not offered");

  await deputy.getByRole("row", { name: /Напоминание о занятии/ })
    .getByRole("radio", { name: "Напоминание о занятии В ежедневной сводке" })
    .check();
  await deputy.getByRole("button", { name: "Сохранить" }).click();
  await deputy.waitForURL(/\/account\/notifications$/);
  check((await text(deputy, ".notice")).includes("сохранены"), "saved");
  check(
    await deputy.getByRole("row", { name: /Напоминание о занятии/ })
      .getByRole("radio", { name: "Напоминание о занятии В ежедневной сводке" })
      .isChecked(),
    "the choice is kept",
  );

  // The unsubscribe link of a message, in a browser that is not signed in:
  // opening it changes nothing; the button turns that news off.
  const mail = await newPage();
  await mail.goto(setting.unsubscribe);
  await accessible(mail, "the unsubscribe page");
  check((await text(mail)).includes("больше не получать такие письма"), "explains the button");
  await mail.getByRole("button", { name: "Отписаться" }).click();
  await mail.waitForSelector("#unsubscribed");
  check(
    (await text(mail, "#unsubscribed")).includes("«Группа записана» больше не будут приходить"),
    `names the news: ${await text(mail, "#unsubscribed")}`,
  );
  const forged = await newPage();
  await forged.goto(setting.unsubscribe.replace("registration_confirmed", "booking_approved"));
  await forged.getByRole("button", { name: "Отписаться" }).click();
  await forged.waitForSelector("#unsubscribe-error");
  check(/недействительна/.test(await text(forged, "#unsubscribe-error")), "a forged link is refused in Russian");
  return {};
}
