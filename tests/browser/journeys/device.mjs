// A person confirms the command line's sign-in at the identity provider,
// in a browser on any device: the code's page, the provider's login and
// consent, and its word that the device is signed in.
export async function run({ setting, newPage, check, text }) {
  const page = await newPage();
  await page.goto(setting.url);
  check((await text(page, "body")).includes(setting.code), "the provider shows the code to confirm");
  await Promise.all([
    page.waitForNavigation(),
    page.locator('button[form="op.deviceConfirmForm"][autofocus]').click(),
  ]);
  await page.waitForSelector('input[name="login"]');
  await page.fill('input[name="login"]', setting.login);
  await page.fill('input[name="password"]', "any");
  await Promise.all([page.waitForNavigation(), page.click("button.login-submit")]);
  if (await page.locator('input[name="prompt"][value="consent"]').count()) {
    await Promise.all([page.waitForNavigation(), page.click("button.login-submit")]);
  }
  const said = await text(page, "body");
  check(/success/i.test(said), `the provider says the device is signed in: ${said}`);
  return {};
}
