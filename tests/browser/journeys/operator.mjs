// The operator of a hub sees its peers and subscriptions with their lag,
// adds a member to a school and hands them a one-time sign-in link, which
// works once in another browser. A school's admin manages their own
// school's people but not the node.
export async function run({ setting, signIn, newPage, check, text, accessible }) {
  const page = await signIn(setting.link);
  const nav = page.getByRole("navigation", { name: "Разделы" });
  await nav.getByRole("link", { name: "Узел" }).click();
  await page.waitForURL(/\/node$/);
  await accessible(page, "the node");

  const health = await text(page, "#health");
  check(/на связи/.test(health), `the node keeps up with its neighbours: ${health}`);
  const peers = await text(page, "#peers");
  check(peers.includes(setting.peer.name) && peers.includes(setting.peer.id), `the peer is listed: ${peers}`);
  const subscriptions = await text(page, "#subscriptions");
  check(subscriptions.includes(setting.peer.name), `the subscription is listed: ${subscriptions}`);
  check(subscriptions.includes("На связи"), `the link is up: ${subscriptions}`);
  const lag = await page.locator("#subscriptions tbody tr").first().locator("td").nth(1).innerText();
  check(/^\d+$/.test(lag.trim()), `the lag in entries is a number: ${lag}`);
  const heard = await page.locator("#subscriptions tbody tr").first().locator("td").nth(2).innerText();
  check(/\d+ (с|мин|ч|дн\.)/.test(heard), `how long ago the peer was heard: ${heard}`);

  // A new coordinator for the school.
  await page.getByRole("link", { name: setting.organization }).click();
  await page.waitForURL(/\/organizations\//);
  await accessible(page, "the organization");
  await page.getByLabel("Имя").fill(setting.member);
  await page.getByLabel("Роль").selectOption({ label: "Координатор" });
  await page.getByRole("button", { name: "Добавить", exact: true }).click();
  await page.waitForURL(/\/members\/[^/?]+\?done=added/);
  check((await text(page, "h1")) === setting.member, "the new member's page");
  check((await text(page, ".notice")).includes("Сотрудник добавлен"), "added");
  await accessible(page, "the member");

  // Their link, shown once.
  const theirPage = page.url().replace(/\?.*$/, "");
  await page.getByRole("button", { name: "Выдать ссылку для входа" }).click();
  const link = await page.getByLabel("Ссылка для входа сотрудника").inputValue();
  check(link.startsWith(`${setting.base}/sign-in/`), `a sign-in link of this node: ${link}`);
  await accessible(page, "the issued link");
  await page.goto(theirPage);
  check((await page.locator("#issued-link").count()) === 0, "the link is not shown again");

  // It works, in the member's own browser.
  const theirs = await signIn(link);
  const signedInAs = (await text(theirs, ".who a")).trim();
  check(signedInAs.startsWith(setting.member), `signed in as ${signedInAs}`);
  const again = await newPage();
  await again.goto(link);
  const button = again.getByRole("button", { name: "Войти" });
  if (await button.count()) await button.click();
  check(/недействительна|использована/.test(await text(again)), `the link works only once: ${await text(again)}`);
  await again.context().close();

  // Their session shows on their page.
  await page.goto(theirPage);
  const sessions = await text(page, "#sessions");
  check(sessions.includes("Chrome"), `their session is listed: ${sessions}`);

  // A school's admin: their school's people, not the node.
  const admin = await signIn(setting.admin);
  check((await admin.getByRole("navigation", { name: "Разделы" }).getByRole("link", { name: "Узел" }).count()) === 0,
    "only the operator sees the node in the navigation");
  await admin.goto(`${setting.base}/account`);
  await admin.getByRole("link", { name: "gym24", exact: true }).click();
  await admin.waitForURL(/\/organizations\/gym24$/);
  check((await text(admin, "#members")).includes(setting.member), "the admin sees the new member");
  check(await admin.getByRole("button", { name: "Добавить", exact: true }).isVisible(), "and may add one");
  await accessible(admin, "the organization, for its admin");
  const refused = await admin.goto(`${setting.base}/node`);
  check(refused.status() === 403, `the node is the operator's: ${refused.status()}`);

  // A teacher who left asks for their data to be erased: the admin
  // confirms that it cannot be undone, then the teacher is gone.
  await admin.goto(`${setting.base}/organizations/gym24`);
  await admin.getByRole("link", { name: setting.leaver }).click();
  await admin.waitForURL(/\/members\//);
  await admin.getByRole("button", { name: "Удалить персональные данные" }).click();
  const confirmError = admin.locator("#confirm-error");
  check(await confirmError.isVisible(), "an unconfirmed erasure is refused beside the checkbox");
  check((await confirmError.innerText()).includes("нельзя отменить"), `in Russian: ${await confirmError.innerText()}`);
  await accessible(admin, "the refused erasure");
  await admin.getByLabel("Понимаю, что удаление нельзя отменить").check();
  await admin.getByRole("button", { name: "Удалить персональные данные" }).click();
  await admin.waitForURL(/done=erased/);
  check((await text(admin, ".notice")).includes("Персональные данные сотрудника удалены"), "erased");
  check(!(await text(admin, "#members")).includes(setting.leaver), "the teacher is no longer listed");
  return { signedInAs, link: link.replace(/[^/]+$/, "…") };
}
