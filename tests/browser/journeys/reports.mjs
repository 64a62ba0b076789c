// The methodical centre's analyst reads the network's reports: the
// indicators against their targets for a period and a scope, sets a
// target, opens each report, sees every value named in Russian (no raw
// keys such as "olympiad_prep_course"), and downloads a table as CSV.
//
// The setting says what to look for: `expect` (texts per page), `bars`
// (bars per chart), `target` (a target to set and how it then shows),
// `raw` (keys that must not show), `absent` (nor these texts), `from` and
// `to` (a period other than the school year), `scope` and `covered`.
import { readFileSync } from "node:fs";

const TABS = [
  ["activities", "Мероприятия"],
  ["participation", "Участие"],
  ["agreements", "Договоры"],
  ["resources", "Ресурсы"],
];

export async function run({ setting, signIn, check, text, accessible }) {
  const visited = [];
  const expect = setting.expect || {};

  /** Fails if a raw key of an enum, or any snake_case word, shows. */
  function named(shown, where) {
    const raw = shown.match(/\b[a-z]+(?:_[a-z]+)+\b/);
    check(!raw, `${where} shows a raw key: ${raw && raw[0]}`);
    for (const key of setting.raw || []) {
      check(!new RegExp(`\\b${key}\\b`).test(shown), `${where} shows ${key}`);
    }
    for (const phrase of setting.absent || []) {
      check(!shown.includes(phrase), `${where} shows «${phrase}»`);
    }
  }

  async function looks(page, what) {
    const shown = await text(page);
    for (const wanted of expect[what] || []) {
      check(shown.includes(wanted), `${what} should show «${wanted}»: ${shown.slice(0, 1500)}`);
    }
    named(shown, what);
    for (const [chart, bars] of Object.entries(setting.bars || {})) {
      if (!chart.endsWith(what)) continue;
      const count = await page.locator(`#${chart} .bars li`).count();
      check(count === bars, `${chart} has ${count} bars, not ${bars}`);
      const drawn = await page.locator(`#${chart} svg.bar rect:not(.track)`).count();
      check(drawn >= 1, `${chart} draws its bars`);
    }
    const size = Buffer.byteLength(await page.content());
    check(size < 100_000, `${what} weighs ${size} bytes`);
    await accessible(page, what);
    await shoot(page, what);
    visited.push(what);
    return shown;
  }

  /** With EDUFED_SCREENSHOTS set (a directory), keeps a picture of the page. */
  async function shoot(page, what) {
    const dir = process.env.EDUFED_SCREENSHOTS;
    if (!dir) return;
    const { width } = page.viewportSize();
    await page.screenshot({ path: `${dir}/reports-${what}-${width}.png`, fullPage: true });
  }

  const page = await signIn(setting.link);
  await page.getByRole("navigation", { name: "Разделы" }).getByRole("link", { name: "Отчёты" }).click();
  await page.waitForURL(/\/reports$/);

  // The period and the scope.
  if (setting.from) {
    await page.getByLabel("Начало периода").fill(setting.from);
    await page.getByLabel("Конец периода").fill(setting.to);
  }
  await page.getByLabel("Охват", { exact: true }).selectOption({ label: setting.scope });
  await page.getByRole("button", { name: "Показать" }).click();
  await page.waitForURL(/scope=/);
  const covered = await text(page, ".covered");
  check(!setting.covered || covered === setting.covered, `the report covers «${covered}»`);
  await looks(page, "indicators");
  const indicatorsUrl = page.url();

  // A target for the whole network, set on its page.
  if (setting.target) {
    await page.getByRole("link", { name: /цели/i }).first().click();
    await page.waitForURL(/\/reports\/targets/);
    await accessible(page, "the targets");
    const form = page.locator("form[action='/reports/targets']");
    await form.getByLabel("Показатель").selectOption({ label: setting.target.indicator });
    await form.getByLabel("Для кого").selectOption({ label: setting.target.for });
    await form.getByLabel("Значение цели").fill(setting.target.value);
    await form.getByLabel("Достичь к").fill(setting.target.due);
    await form.getByRole("button", { name: "Сохранить цель" }).click();
    await page.waitForURL(/saved=target/);
    check((await text(page, ".notice")).includes("Цель сохранена"), "the target is saved");
    const targets = await text(page, "#targets");
    check(targets.includes(setting.target.indicator), `the target is listed: ${targets}`);
    named(await text(page), "the targets");
    await page.goto(indicatorsUrl);
    const shown = await text(page, "#indicators");
    for (const wanted of setting.target.shown || []) {
      check(shown.includes(wanted), `the indicators show «${wanted}» once the target is set: ${shown}`);
    }
  }

  // Each report, keeping the period and the scope.
  let csvPage = null;
  for (const [what, label] of TABS) {
    await page.getByRole("navigation", { name: "Отчёты" }).getByRole("link", { name: label, exact: true }).click();
    await page.waitForURL(new RegExp(`/reports/${what}\\?`));
    check((await text(page, ".covered")) === covered, `${what} keeps the period and scope`);
    await looks(page, what);
    if (what === (setting.csv || "activities")) csvPage = page.url();
  }

  // On a phone's screen, 360 px wide, nothing but a table's own scroller
  // is wider than the screen.
  await page.setViewportSize({ width: 360, height: 780 });
  for (const url of [indicatorsUrl, csvPage]) {
    await page.goto(url);
    const wide = await page.evaluate(() => ({
      width: document.documentElement.scrollWidth,
      past: [...document.querySelectorAll("main *")]
        .filter((e) => e.getBoundingClientRect().right > innerWidth + 1 && !e.parentElement.closest(".scroll"))
        .slice(0, 6)
        .map((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ""}.${e.className}`),
    }));
    check(wide.width <= 360, `${url} is ${wide.width} px wide at 360 px: ${wide.past.join(", ")}`);
    await shoot(page, url === csvPage ? "narrow-table" : "narrow");
  }
  await page.setViewportSize({ width: 1280, height: 900 });

  // The table as a file a spreadsheet opens.
  await page.goto(csvPage);
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Скачать таблицу (CSV)" }).click(),
  ]);
  const bytes = readFileSync(await download.path());
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const csv = bytes.subarray(bom ? 3 : 0).toString("utf8");
  check(download.suggestedFilename().endsWith(".csv"), `a .csv file: ${download.suggestedFilename()}`);
  named(csv, "the CSV file");
  return { visited, csv, bom, file: download.suggestedFilename() };
}
