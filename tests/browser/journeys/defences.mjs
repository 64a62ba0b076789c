// What a page shows is text; a form from elsewhere changes nothing; what a
// person may not do has no button, and the API refuses it if sent anyway;
// a session ends on sign-out, on expiry and when the member is removed.
export async function run({ setting, signIn, newPage, check, text, accessible, pause }) {
  let alerts = 0;
  const watch = (page) => page.on("dialog", async (dialog) => { alerts += 1; await dialog.dismiss(); });
  const activity = `${setting.base}/activities/${setting.activity}`;

  // Anyone: the title and description are text, not markup.
  const anonymous = await newPage();
  watch(anonymous);
  await anonymous.goto(`${setting.base}/calendar?view=list`);
  check((await text(anonymous)).includes("<script>alert(1)</script> Олимпиада"), "the title shows as text in the list");
  await anonymous.goto(activity);
  check((await text(anonymous, "h1")).includes("<script>alert(1)</script>"), "the title shows as text on its page");
  check((await text(anonymous)).includes("<img src=x onerror=alert(2)> описание"), "the description shows as text");
  check(!(await text(anonymous)).includes("Записать группу"), "nobody anonymous may register");
  const headers = (await anonymous.goto(activity)).headers();
  check(headers["content-security-policy"]?.includes("frame-ancestors 'none'"), "a CSP with frame-ancestors 'none'");

  // A viewer sees no form, and the API refuses the form sent anyway.
  const viewer = await signIn(setting.viewer);
  watch(viewer);
  await viewer.goto(activity);
  check(!(await text(viewer)).includes("Записать группу"), "a viewer has no register form");
  const viewerToken = await viewer.locator("form[action='/sign-out'] input[name=csrf]").inputValue();
  const forced = await viewer.request.post(`${activity}/register`, {
    form: { csrf: viewerToken, organization: "gym24", grade_min: "9", grade_max: "9", headcount: "5", teacher: "X" },
  });
  check(forced.status() === 422 && (await forced.text()).includes("не позволяет записывать группы"),
    `the API refuses the viewer (${forced.status()})`);

  // The deputy's forms need their token and this site.
  const deputy = await signIn(setting.deputy);
  watch(deputy);
  await deputy.goto(activity);
  await accessible(deputy, "the activity, signed in");
  check((await text(deputy, "header")).includes("Завуч <b>гимназии</b>"), "a person's name shows as text");
  const form = { organization: "gym24", grade_min: "9", grade_max: "9", headcount: "5", teacher: "X" };
  const tokenless = await deputy.request.post(`${activity}/register`, { form });
  check(tokenless.status() === 403, `a form without its token is refused (${tokenless.status()})`);
  const token = await deputy.locator("form[action='/sign-out'] input[name=csrf]").inputValue();
  const foreign = await deputy.request.post(`${activity}/register`, {
    form: { ...form, csrf: token },
    headers: { Origin: "http://evil.example" },
  });
  check(foreign.status() === 403, `a form from another origin is refused (${foreign.status()})`);
  // A page of another site posting to the console in the person's browser.
  const evil = `<form method="post" action="${activity}/register">` +
    Object.entries({ ...form, csrf: token }).map(([k, v]) => `<input name="${k}" value="${v}">`).join("") +
    `<button>go</button></form>`;
  await deputy.goto(`data:text/html,${encodeURIComponent(evil)}`);
  await deputy.getByRole("button", { name: "go" }).click();
  await deputy.waitForLoadState();
  check((await text(deputy, "body")).includes("Запрос отклонён"), "a cross-site form is refused");

  // Signing out ends the session.
  await deputy.goto(`${setting.base}/account`);
  await accessible(deputy, "the account");
  await deputy.getByRole("button", { name: "Выйти" }).click();
  await deputy.goto(`${setting.base}/account`);
  check((await text(deputy)).includes("Нужно войти"), "signed out");

  // A session left unused past its idle time ends.
  const again = await signIn(setting.again);
  const { link } = await pause("expire");
  await again.goto(`${setting.base}/account`);
  check((await text(again, "body")).includes("Сеанс закончился"), "an idle session expires");

  // Removing the member ends their session at once.
  const last = await signIn(link);
  await pause("remove");
  await last.goto(`${setting.base}/account`);
  check((await text(last, "body")).includes("Нужно войти"), "a removed member is signed out");
  return { alerts };
}
