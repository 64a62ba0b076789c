// People of a school sign in through the region's identity provider.
// The deputy director's account binds by its verified e-mail; a teacher's
// private account binds through the admin's invitation; a stranger and an
// unverified e-mail get a page that says whom to ask. Tokens tampered with
// at the provider, and answers meant for another browser or sign-in, are
// refused in Russian; a key rotation at the provider goes unnoticed; the
// deputy signs out here and at the provider; a removed teacher and an
// unbound deputy lose their sessions at once.
export async function run({ setting, signIn: withLink, newPage, check, text, accessible, pause }) {
  const node = (path) => new URL(path, setting.node).href;
  const provider = (path) => new URL(path, setting.provider).href;

  /** Signs in at the provider's own pages as `login`, granting consent
   * when asked (the first time in a browser). */
  async function atProvider(page, login) {
    await page.waitForSelector('input[name="login"]');
    await page.fill('input[name="login"]', login);
    await page.fill('input[name="password"]', "any");
    await Promise.all([
      page.waitForNavigation().catch(() => {}),
      page.click("button.login-submit"),
    ]);
    if (page.url().startsWith(setting.provider)
        && await page.locator('input[name="prompt"][value="consent"]').count()) {
      await Promise.all([
        page.waitForNavigation().catch(() => {}),
        page.click("button.login-submit"),
      ]);
    }
  }

  /** From the node's sign-in page, through the provider, as `login`; the
   * page the node shows at the end. */
  async function signIn(login, page) {
    page = page || (await newPage());
    await page.goto(node("/sign-in"));
    await page.getByRole("link", { name: "Войти через Госуслуги" }).click();
    await atProvider(page, login);
    await page.waitForURL((url) => url.href.startsWith(setting.node) && url.pathname !== "/sign-in/oidc/region");
    return page;
  }

  /** The visible text of `selector`, in lower case. */
  async function lower(page, selector) {
    return (await text(page, selector)).toLowerCase();
  }

  /** Starts a sign-in in `page` as `login` and stops at the node's door:
   * the URL the provider sends the browser back to, not yet opened. */
  async function answerFor(page, login) {
    await page.goto(node("/sign-in/oidc/region"));
    await page.waitForSelector('input[name="login"]');
    await page.fill('input[name="login"]', login);
    await page.fill('input[name="password"]', "any");
    await Promise.all([page.waitForNavigation(), page.click("button.login-submit")]);
    const consent = page.locator('form:has(input[name="prompt"][value="consent"])');
    const action = new URL(await consent.getAttribute("action"), page.url()).href;
    let answer = await page.request.post(action, { form: { prompt: "consent" }, maxRedirects: 0 });
    let location = new URL(answer.headers().location, action).href;
    while (location.startsWith(setting.provider)) {
      answer = await page.request.get(location, { maxRedirects: 0 });
      location = new URL(answer.headers().location, location).href;
    }
    return location;
  }

  async function tamper(mode) {
    const answer = await fetch(provider(`/__test/tamper?mode=${mode}`), { method: "POST" });
    check(answer.ok, `the provider takes tamper mode ${mode}`);
  }

  // The sign-in page offers the region's provider.
  const first = await newPage();
  await first.goto(node("/calendar"));
  await first.getByRole("link", { name: "Войти" }).click();
  await first.waitForURL(/\/sign-in$/);
  await accessible(first, "the sign-in page");

  // The deputy: bound by the verified e-mail an admin gave them.
  const deputy = await signIn("deputy-sub", first);
  await deputy.waitForURL(/\/calendar/);
  check((await text(deputy, "header")).includes("deputy@gym24.example"), "the deputy is signed in");
  await deputy.goto(node("/account"));
  const account = await text(deputy);
  check(account.includes("Госуслуги") && account.includes("По подтверждённой почте"), `the account lists the bound account: ${account}`);
  check(account.includes("Региональный вход"), "the session says where it came from");

  // A stranger: a page that says whom to ask, and nothing else.
  const stranger = await signIn("stranger-sub");
  await stranger.waitForSelector("#unbound");
  await accessible(stranger, "the page of an account bound to no one");
  const unbound = await text(stranger);
  check(unbound.includes("stranger@mail.example (Госуслуги)") && unbound.includes("не связана"), `names the account: ${unbound}`);
  check(unbound.includes("администратор"), "says whom to ask");
  check(!(await text(stranger, "header")).includes("Выйти"), "is not signed in");

  // An unverified e-mail that is the director's binds nothing.
  const unverified = await signIn("unverified-sub");
  await unverified.waitForSelector("#unbound");
  check((await lower(unverified, "main")).includes("не подтвердил адрес director@gym24.example"), "an unverified e-mail is refused");

  // The director, signed in with a one-time link, invites the teacher to
  // bind a private account.
  const director = await withLink(setting.director);
  await director.goto(node(`/organizations/gym24/members/${setting.teacher}`));
  await accessible(director, "a member's page with an invitation");
  await director.getByRole("button", { name: "Создать приглашение" }).click();
  await director.waitForSelector("#issued-link");
  check((await text(director, ".issued")).includes("Приглашение"), "the invitation is named so");
  const invitation = await director.inputValue("#issued-link");
  check(invitation.includes("/invitation/"), `an invitation's link: ${invitation}`);

  // The teacher's private account, through the invitation.
  const teacher = await newPage();
  await teacher.goto(invitation);
  await accessible(teacher, "the invitation page");
  check((await text(teacher)).includes("пригласил"), "the invitation explains itself");
  await teacher.getByRole("link", { name: "Войти через Госуслуги" }).click();
  await atProvider(teacher, "teacher-sub");
  await teacher.waitForURL(/\/calendar/);
  await teacher.goto(node("/account"));
  check((await text(teacher)).includes("По приглашению"), "bound by the invitation");
  // The invitation works once.
  const again = await newPage();
  await again.goto(invitation);
  await again.getByRole("link", { name: "Войти через Госуслуги" }).click();
  await again.waitForSelector("#sign-in-error");
  check(/уже использована/.test(await lower(again, "#sign-in-error")), "a used invitation is refused");

  // ID tokens tampered with at the provider.
  const refusals = {
    signature: "подпись ID-токена не принадлежит поставщику входа",
    audience: "ID-токен выдан другому приложению",
    expired: "срок действия ID-токена истёк",
    replay: "ID-токен выдан не для этого входа",
  };
  for (const [mode, words] of Object.entries(refusals)) {
    await tamper(mode);
    const page = await signIn("deputy-sub");
    await page.waitForSelector("#sign-in-error");
    const said = await lower(page, "#sign-in-error");
    check(said.includes(words.toLowerCase()), `${mode}: ${said}`);
    check(!(await text(page, "header")).includes("Выйти"), `${mode}: not signed in`);
  }

  // Answers that do not belong: the provider's answer opened in another
  // browser (as a forged login would), a state never issued, and the
  // genuine answer used twice.
  const victim = await newPage();
  let callback = null;
  victim.on("request", (request) => {
    if (request.url().startsWith(node("/sign-in/oidc/region/callback"))) callback = request.url();
  });
  await victim.goto(node("/sign-in/oidc/region"));
  await atProvider(victim, "deputy-sub");
  await victim.waitForURL(/\/calendar/);
  check(callback, "the provider answered");
  const elsewhere = await newPage();
  await elsewhere.goto(callback);
  await elsewhere.waitForSelector("#sign-in-error");
  check((await lower(elsewhere, "#sign-in-error")).includes("не относится ко входу, начатому в этом браузере"), "another browser cannot finish it");
  // A browser that holds a state the node never issued, and one holding
  // the genuine state of a sign-in already finished.
  const state = new URL(callback).searchParams.get("state");
  const forged = new URL(callback);
  forged.searchParams.set("state", "forged-state-forged-state");
  const holder = await newPage();
  await holder.context().addCookies([{ name: "edufed_sign_in", value: "forged-state-forged-state", url: setting.node }]);
  await holder.goto(forged.href);
  await holder.waitForSelector("#sign-in-error");
  check((await lower(holder, "#sign-in-error")).includes("начат не здесь"), "a state never issued is refused");
  await holder.context().addCookies([{ name: "edufed_sign_in", value: state, url: setting.node }]);
  await holder.goto(callback);
  await holder.waitForSelector("#sign-in-error");
  check((await lower(holder, "#sign-in-error")).includes("уже завершён"), "an answer used once is refused");

  // A mix-up: the region's answer brought to the university's door, or
  // naming another issuer, is refused.
  const mixer = await newPage();
  const regions = await answerFor(mixer, "deputy-sub");
  check(regions.startsWith(node("/sign-in/oidc/region/callback")), `the region's door: ${regions}`);
  await mixer.goto(regions.replace("/sign-in/oidc/region/", "/sign-in/oidc/university/"));
  await mixer.waitForSelector("#sign-in-error");
  check((await lower(mixer, "#sign-in-error")).includes("не от того поставщика"), "an answer at another issuer's door is refused");
  const namer = await newPage();
  const named = new URL(await answerFor(namer, "deputy-sub"));
  named.searchParams.set("iss", "https://evil.example");
  await namer.goto(named.href);
  await namer.waitForSelector("#sign-in-error");
  check((await lower(namer, "#sign-in-error")).includes("не от того поставщика"), "an answer naming another issuer is refused");
  // The provider's own words show only for this browser's sign-in.
  await mixer.goto(node("/sign-in/oidc/region/callback?error=server_error&error_description=Call+555&state=forged"));
  await mixer.waitForSelector("#sign-in-error");
  check(!(await text(mixer, "#sign-in-error")).includes("555"), "words in a forged answer are not shown");

  // The provider rotates its keys: the node reads them again.
  await pause("rotate");
  const rotated = await signIn("deputy-sub");
  await rotated.waitForURL(/\/calendar/);
  check((await text(rotated, "header")).includes("deputy@gym24.example"), "signed in after the key rotation");

  // Signing out here, then at the provider too.
  await rotated.getByRole("button", { name: "Выйти" }).click();
  await rotated.waitForSelector("#signed-out");
  await accessible(rotated, "the signed-out page");
  await rotated.getByRole("link", { name: "Выйти также из Госуслуги" }).click();
  await rotated.waitForLoadState("load");
  if (rotated.url().startsWith(setting.provider)) {
    // The provider asks to confirm.
    await rotated.locator('button[name="logout"]').click();
  }
  await rotated.waitForURL((url) => url.href.startsWith(node("/signed-out")));
  // Signed out at the provider: the next sign-in asks for the login again.
  await rotated.goto(node("/sign-in/oidc/region"));
  await rotated.waitForSelector('input[name="login"]');

  // The director now lets the school's members sign in only through the
  // region's provider.
  await director.goto(node("/organizations/gym24"));
  await director.selectOption("#issuer", { label: "Только через Госуслуги" });
  await director.getByRole("button", { name: "Сохранить" }).click();
  await director.waitForSelector(".notice");
  check((await text(director, ".notice")).includes("сохранён"), "the sign-in policy is saved");
  check(await director.locator("#issuer option:checked").innerText() === "Только через Госуслуги", "and shown");
  await accessible(director, "the organization's page with its sign-in policy");
  // The teacher's page now lists the bound account.
  await director.goto(node(`/organizations/gym24/members/${setting.teacher}`));
  check((await text(director, "#identities")).includes("s.petrov@mail.example"), "the admin sees the teacher's account");

  // The teacher is removed from the school: their session ends at once.
  await pause("remove-teacher");
  await teacher.goto(node("/account"));
  const lost = await text(teacher, "body");
  check(lost.includes("Сеанс закончился") && !(await text(teacher, "header")).includes("Выйти"), `the removed teacher is signed out: ${lost}`);

  // The deputy's account is unbound: the sessions it started end at once.
  await pause("unbind-deputy");
  await deputy.goto(node("/account"));
  check(!(await text(deputy, "header")).includes("Выйти"), "the unbound deputy is signed out");
  // Signing in again binds it again by the verified e-mail.
  const back = await signIn("deputy-sub");
  await back.waitForURL(/\/calendar/);
  return {};
}
